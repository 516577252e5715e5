// Wraps the query handler the wire server calls so that every statement is counted, timed and, when it fails,
// counted by SQLSTATE, and COPY data is counted in bytes. The wire layer and the router stay unaware of it.
import type { StoredCredentials } from '../../pg/auth';
import { SqlError } from '../../pg/errors';
import type {
  ClientSession,
  PreparedQuery,
  QueryContext,
  QueryHandler,
  QueryResult,
} from '../../wire/handler';
import type { Metrics } from './metrics';

// performance.now(), not process.hrtime.bigint(): a statement is timed twice, and a bigint is an allocation each.
const seconds = (since: number) => (performance.now() - since) / 1000;

export class MeasuredHandler implements QueryHandler {
  constructor(
    private readonly inner: QueryHandler,
    private readonly metrics: Metrics,
  ) {}

  credentials(user: string): Promise<StoredCredentials | null> {
    return this.inner.credentials(user);
  }

  async sessionSettings(user: string): Promise<Record<string, string>> {
    return this.inner.sessionSettings ? this.inner.sessionSettings(user) : {};
  }

  async prepare(
    sql: string,
    clientParamTypes: number[],
    session: ClientSession,
    describe: boolean,
  ): Promise<PreparedQuery> {
    const start = performance.now();
    let prepared: PreparedQuery;
    try {
      prepared = await this.inner.prepare(sql, clientParamTypes, session, describe);
    } catch (err) {
      this.failed(err, start);
      throw err;
    }
    return {
      paramTypes: prepared.paramTypes,
      fields: prepared.fields,
      execute: async (params: unknown[], ctx: QueryContext): Promise<QueryResult> => {
        // A prepared statement runs many times: each execution is timed from its own start.
        const begun = performance.now();
        try {
          return this.measure(await prepared.execute(params, ctx), begun);
        } catch (err) {
          this.failed(err, begun);
          throw err;
        }
      },
    };
  }

  private measure(result: QueryResult, start: number): QueryResult {
    const m = this.metrics;
    switch (result.kind) {
      case 'rows':
      case 'command':
        m.query(result.kind, seconds(start));
        return result;
      case 'copyIn':
        return {
          ...result,
          consume: async (data, ctx) => {
            try {
              const tag = await result.consume(
                countBytes(data, (n) => m.copied('in', n)),
                ctx,
              );
              m.query('copyIn', seconds(start));
              return tag;
            } catch (err) {
              this.failed(err, start);
              throw err;
            }
          },
        };
      case 'copyOut':
        return {
          ...result,
          produce: (ctx) => countBytes(result.produce(ctx), (n) => m.copied('out', n)),
          tag: () => {
            m.query('copyOut', seconds(start));
            return result.tag();
          },
        };
    }
  }

  private failed(err: unknown, start: number): void {
    this.metrics.queryError(err instanceof SqlError ? err.code : 'XX000');
    this.metrics.query('error', seconds(start));
  }
}

/** The chunks (or runs of chunks) of a COPY, passed on as they are, their bytes counted. */
async function* countBytes<T extends Buffer | Buffer[]>(
  data: AsyncIterable<T>,
  add: (n: number) => void,
): AsyncIterable<T> {
  for await (const chunk of data) {
    const parts: readonly Buffer[] = Array.isArray(chunk) ? chunk : [chunk as Buffer];
    let n = 0;
    for (const b of parts) n += b.length;
    add(n);
    yield chunk;
  }
}
