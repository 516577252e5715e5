// Public surface of the wire layer.
export type { AuthMethod, StoredCredentials } from './auth';
export { makeMd5Hash, makeScramVerifier } from './auth';
export type { WireLogger } from './connection';
export * from './handler';
export { WireServer, type WireServerOptions } from './server';
export { type SqlPiece, splitStatements, stripComments } from './splitter';
export * from './types';
