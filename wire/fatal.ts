// Errors that end the connection: the connection sends them as a FATAL ErrorResponse and closes, where an
// SqlError only fails the current statement.

export class Fatal extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Bytes that do not follow the protocol: the client and we no longer agree on where messages begin. */
export class ProtocolViolation extends Fatal {
  constructor(message: string) {
    super('08P01', message);
  }
}
