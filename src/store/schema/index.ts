/**
 * The one database schema. Each part keeps its tables in a file of its own here; this index is what
 * drizzle-kit reads to generate migrations and what the database factory types its client with.
 */
export * from './settings.ts';
export * from './auth.ts';
export * from './bank.ts';
export * from './consent.ts';
export * from './directory.ts';
export * from './openbanking.ts';
export * from './rate-limits.ts';
export * from './change-version.ts';
export * from './events.ts';
export * from './operator.ts';
export * from './mi.ts';
