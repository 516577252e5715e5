// Errors of the task engine, with the SQLSTATE an operator should see. The engine knows nothing of the wire:
// the statement module (module.ts) turns these into protocol errors.
export class TaskError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly extra: { hint?: string; detail?: string } = {},
  ) {
    super(message);
  }
}
