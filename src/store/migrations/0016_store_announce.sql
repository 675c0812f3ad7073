-- One way to announce a change, for the store's client and for triggers alike: advances the store's change
-- version, notifies the change's own channel, then `store_change_version` with the new version (in this
-- order: a listener that has the version has had the change's notification before it), and answers the
-- version. Notifications are sent on commit, in commit order; the version row's lock orders the versions.
create or replace function store_announce(channel text, payload text) returns bigint
language plpgsql as $$
declare
  announced bigint;
begin
  insert into store_change_version (id, version) values (1, 1)
  on conflict (id) do update set version = store_change_version.version + 1
  returning version into announced;
  perform pg_notify(channel, payload);
  perform pg_notify('store_change_version', announced::text);
  return announced;
end
$$;
