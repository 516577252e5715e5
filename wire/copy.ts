// The COPY sub-protocol (PostgreSQL's copyfromparse.c / copyto.c as far as the wire goes): CopyInResponse
// then CopyData until CopyDone or CopyFail; CopyOutResponse then CopyData and CopyDone.

import { SqlError } from '../pg/errors';
import * as msg from './backend-messages';
import { ProtocolViolation } from './fatal';
import { decodeCopyFail } from './frontend-messages';
import type { CopyInResult, CopyOutResult, QueryContext } from './handler';
import { codeChar, FrontendCode } from './message-codes';
import { type Transport, WRITE_ALONE_BYTES } from './transport';

/** COPY ... FROM STDIN: streams the client's CopyData into the handler; returns the command tag. */
export async function copyIn(transport: Transport, result: CopyInResult, ctx: QueryContext): Promise<string> {
  transport.send(msg.copyInResponse(result.binary));
  await transport.flush();
  let ended = false;
  // The CopyData payloads that have arrived by the time one is awaited go on together, as one run: a
  // run per socket read (psql sends 8 KiB messages) instead of a promise per message through every stage.
  async function* runs(): AsyncGenerator<Buffer[]> {
    for (;;) {
      const f = await transport.next();
      if (!f) throw new SqlError('08006', 'connection lost during COPY');
      if (f.type === FrontendCode.CopyData) {
        const run = [f.body];
        for (
          let g = transport.nextIfQueued(FrontendCode.CopyData);
          g;
          g = transport.nextIfQueued(FrontendCode.CopyData)
        )
          run.push(g.body);
        yield run;
      } else if (f.type === FrontendCode.CopyDone) {
        ended = true;
        return;
      } else if (f.type === FrontendCode.CopyFail) {
        const reason = decodeCopyFail(f.body);
        ended = true;
        throw new SqlError('57014', `COPY from stdin failed: ${reason}`);
      } else if (f.type === FrontendCode.Flush || f.type === FrontendCode.Sync) {
        // Flush and Sync during COPY are ignored (PostgreSQL does the same).
      } else
        throw new ProtocolViolation(`unexpected message type "${codeChar(f.type)}" during COPY from stdin`);
    }
  }
  try {
    return await result.consume(runs(), ctx);
  } catch (err) {
    // Drain the rest of the COPY stream so the protocol stays in step, then report.
    while (!ended) {
      const f = await transport.next();
      if (!f || f.type === FrontendCode.CopyDone || f.type === FrontendCode.CopyFail) break;
    }
    throw err;
  }
}

/** COPY ... TO STDOUT: sends the handler's chunks as CopyData; returns the command tag. */
export async function copyOut(
  transport: Transport,
  result: CopyOutResult,
  ctx: QueryContext,
): Promise<string> {
  transport.send(msg.copyOutResponse(result.binary));
  for await (const chunk of result.produce(ctx)) {
    if (chunk.length >= WRITE_ALONE_BYTES) {
      // Sent as it is, after its header, not copied into a message; the producer may reuse the chunk once the
      // next one is asked for, so it is in the kernel's hands before that.
      transport.send(msg.copyDataHeader(chunk.length));
      transport.send(chunk);
      await transport.flush({ written: true });
    } else {
      // Small payloads are copied into their message and go out together.
      transport.send(msg.copyData(chunk));
      await transport.flushIfLarge();
    }
    await transport.yieldIfDue();
  }
  transport.send(msg.copyDone());
  return result.tag();
}
