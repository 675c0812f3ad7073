import type { X509Certificate } from 'node:crypto';
import { checkServerIdentity, type DetailedPeerCertificate, type PeerCertificate } from 'node:tls';
import type { Agent } from 'undici';
import { certificateNamesSoftware, parseParticipantCertificate } from '../pki/index.ts';
import { outboundAgent } from './outbound-fetch.ts';
import type { ParticipantRef } from '../shared/participant-status.ts';

/**
 * Whom the bank expects at the HTTPS address a TPP gave it for its event callback.
 *
 * Open Banking transport certificates name a participant, not a host: the subject carries the software id
 * (CN), the organisation id (OU) and the organizationIdentifier, and no subjectAltName. The Event
 * Notification profile asks the TPP to protect its endpoint with "a network certificate issued by a Trust
 * Anchor supported by the ASPSP", so a TPP may well serve its callback with its own transport certificate.
 * The rule:
 * - a certificate that chains to the participant trust anchors (the CAs the bank accepts TPP transport
 *   certificates from) and names a participant (an OU or an organizationIdentifier in its subject) is
 *   accepted only when it names the TPP that owns the subscription — the same test DCR applies to that
 *   software's transport certificate (`certificateNamesSoftware`: the software and its organisation, or
 *   the organisation alone in the organizationIdentifier, as eIDAS certificates name it); the host name
 *   plays no part, and a certificate of any other participant is refused even if it named the host;
 * - any other certificate (a web PKI certificate, a server certificate from the participant CA that names
 *   no participant) gets the ordinary RFC 6125 host name check.
 * The TLS chain itself is verified before this runs (`ca`), so only a certificate the bank trusts gets here.
 */
export function callbackServerIdentity(
  owner: ParticipantRef | undefined,
  participantAnchors: readonly X509Certificate[],
): (hostname: string, certificate: PeerCertificate) => Error | undefined {
  const anchors = new Set(participantAnchors.map((anchor) => anchor.fingerprint256));
  return (hostname, certificate) => {
    if (!issuedUnder(certificate as DetailedPeerCertificate, anchors))
      return checkServerIdentity(hostname, certificate);
    const identity = parseParticipantCertificate(new Uint8Array(certificate.raw));
    if (identity.orgId === undefined && identity.organizationIdentifier === undefined)
      return checkServerIdentity(hostname, certificate);
    if (owner && certificateNamesSoftware(identity, { softwareId: owner.softwareId, orgId: owner.orgId }))
      return undefined;
    const expected = owner
      ? `software ${owner.softwareId ?? '(any)'} of organisation ${owner.orgId}`
      : 'a directory participant (the subscription has none)';
    return Object.assign(
      new Error(
        `the callback's certificate (${identity.subjectDn}) belongs to another participant, not ${expected}`,
      ),
      { code: 'ERR_TLS_CERT_ALTNAME_INVALID', host: hostname },
    );
  };
}

/** Whether some certificate above the leaf in the presented (and completed) chain is a participant anchor. */
function issuedUnder(leaf: DetailedPeerCertificate, anchors: ReadonlySet<string>): boolean {
  const seen = new Set<string>();
  for (let issuer = leaf.issuerCertificate; issuer && !seen.has(issuer.fingerprint256);) {
    if (anchors.has(issuer.fingerprint256)) return true;
    seen.add(issuer.fingerprint256);
    issuer = issuer.issuerCertificate;
  }
  return false;
}

/** The most TPPs whose callback connections are kept open at once; the least recently used is closed. */
const MAX_AGENTS = 256;

export interface CallbackAgents {
  /** The agent that carries pushes to this TPP's callback: its own, checking its own identity. */
  agentFor(clientId: string): Promise<Agent>;
  close(): Promise<void>;
}

/**
 * The agents that carry event pushes to TPP callbacks: one per TPP, because which server certificate is
 * acceptable depends on the TPP (`callbackServerIdentity`), and an undici agent pools connections by
 * origin — a connection checked for one TPP must never carry another TPP's event to the same origin.
 */
export function callbackAgents(options: {
  /** What callback server certificates may chain to (system CAs, configured CAs, the participant CAs). */
  ca: string[];
  /** The CAs that issue TPP transport certificates. */
  participantAnchors: readonly X509Certificate[];
  allowPrivateAddresses: boolean;
  /** The bank's TLS client certificate and key, presented to a receiver that asks for one. */
  identity: { cert: string; key: string } | undefined;
  /** The directory participant a client registered as; undefined for one that is none. */
  ownerOf(clientId: string): Promise<ParticipantRef | undefined>;
}): CallbackAgents {
  const agents = new Map<string, Promise<Agent>>();
  const create = async (clientId: string): Promise<Agent> =>
    outboundAgent({
      ca: options.ca,
      allowPrivateAddresses: options.allowPrivateAddresses,
      identity: options.identity,
      checkServerIdentity: callbackServerIdentity(
        await options.ownerOf(clientId),
        options.participantAnchors,
      ),
    });
  return {
    agentFor(clientId) {
      let agent = agents.get(clientId);
      if (agent) agents.delete(clientId);
      else agent = create(clientId);
      agents.set(clientId, agent);
      if (agents.size > MAX_AGENTS) {
        const [oldest, evicted] = agents.entries().next().value!;
        agents.delete(oldest);
        // A push still in flight on it finishes first (close waits for pending requests).
        void evicted.then((old) => old.close()).catch(() => undefined);
      }
      // A failed lookup is not kept: the next push asks again.
      agent.catch(() => agents.delete(clientId));
      return agent;
    },
    async close() {
      const all = [...agents.values()];
      agents.clear();
      await Promise.all(all.map((agent) => agent.then((open) => open.close()).catch(() => undefined)));
    },
  };
}
