// Starts the HTTP side (metrics and console) for an app: the one place that knows what it needs.
import type { Logger } from 'pino';
import type { Catalog } from '../../catalog/db';
import { CatalogObserver } from '../../catalog/observe';
import type { Users } from '../../catalog/users';
import type { QueryHandler } from '../../wire/handler';
import type { TaskTypeRegistry } from '../engine/registry';
import { MeasuredHandler } from './measured-handler';
import { Metrics } from './metrics';
import { HttpServer } from './server';

export interface Observability {
  metrics: Metrics;
  /** The query handler to give the wire server: the router, counted and timed. */
  handler: QueryHandler;
  /** Starts the HTTP server on host:port (0 = a free port); returns the port. */
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
}

export function observability(
  catalog: Catalog,
  users: Users,
  router: QueryHandler,
  types: TaskTypeRegistry,
  logger: Logger,
): Observability {
  const observer = new CatalogObserver(catalog);
  const metrics = new Metrics(observer);
  const handler = new MeasuredHandler(router, metrics);
  const taskTypes = types.names().map((name) => ({ name, options: types.optionsOf(types.get(name)!) }));
  let server: HttpServer | null = null;
  return {
    metrics,
    handler,
    async listen(host, port) {
      server = new HttpServer({ observer, users, handler, metrics, taskTypes, logger });
      return server.listen(host, port).catch((err: Error & { code?: string }) => {
        // Said here, not as EADDRINUSE: the caller's message for that is about the PostgreSQL port.
        if (err.code === 'EADDRINUSE')
          throw new Error(
            `HTTP port ${port} is already in use (choose another with --http-port, or --no-http)`,
          );
        throw err;
      });
    },
    async close() {
      await server?.close();
    },
  };
}
