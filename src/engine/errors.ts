// Errors of the task engine, with the SQLSTATE an operator should see. A TaskError is a SqlError (pg/), so the
// wire layer reports it as it is; the engine itself knows nothing of the wire.
import { SqlError } from '../../pg/errors';

export class TaskError extends SqlError {}
