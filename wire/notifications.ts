// LISTEN / NOTIFY, like PostgreSQL's commands/async.c: a hub in the server through which backends signal
// each other, and per backend the channels it listens on and the notifications it has not sent yet.
// A backend sends a notification when it is idle outside a transaction block, or just before its next
// ReadyForQuery outside a block. NOTIFY and LISTEN / UNLISTEN take effect when their transaction commits
// (at once outside a block); a ROLLBACK drops them. Within one transaction, identical notifications collapse.
import { SqlError } from '../pg/errors';
import { checkNotification } from '../pg/notify';
import * as msg from './backend-messages';

export interface Notification {
  channel: string;
  payload: string;
  /** The notifying backend's pid (the server's own events carry the server process's). */
  pid: number;
}

interface Subscriber {
  listens(channel: string): boolean;
  receive(n: Notification): void;
}

export class NotificationHub {
  private readonly subscribers = new Set<Subscriber>();

  /** serverChannels: channels only the server publishes on; a client's NOTIFY there is refused. */
  constructor(readonly serverChannels: ReadonlySet<string> = new Set()) {}

  add(s: Subscriber): void {
    this.subscribers.add(s);
  }

  remove(s: Subscriber): void {
    this.subscribers.delete(s);
  }

  publish(n: Notification): void {
    for (const s of this.subscribers) if (s.listens(n.channel)) s.receive(n);
  }
}

type Action = { listen: string } | { unlisten: string | null };

/** What a backend needs from its connection to send notifications. */
export interface NotificationOutlet {
  send(message: Buffer): void;
  /** Flushes now; called only while the backend waits for the client. */
  flush(): void;
  /** The backend waits for a message and is outside a transaction block: it can send at once. */
  canSendNow(): boolean;
}

export class BackendNotifications implements Subscriber {
  private readonly channels = new Set<string>();
  private pendingActions: Action[] = [];
  private pendingNotifies: Notification[] = [];
  private inbox: Notification[] = [];

  constructor(
    private readonly hub: NotificationHub,
    private readonly pid: number,
    private readonly outlet: NotificationOutlet,
  ) {
    hub.add(this);
  }

  listens(channel: string): boolean {
    return this.channels.has(channel);
  }

  receive(n: Notification): void {
    this.inbox.push(n);
    if (this.outlet.canSendNow()) {
      this.sendReceived();
      this.outlet.flush();
    }
  }

  /** Sends what was received (before ReadyForQuery outside a block, or while idle). */
  sendReceived(): void {
    const inbox = this.inbox;
    this.inbox = [];
    for (const n of inbox) this.outlet.send(msg.notificationResponse(n.pid, n.channel, n.payload));
  }

  listen(channel: string): void {
    this.pendingActions.push({ listen: channel });
  }

  /** UNLISTEN channel, or UNLISTEN * (null). */
  unlisten(channel: string | null): void {
    this.pendingActions.push({ unlisten: channel });
  }

  notify(channel: string, payload: string): void {
    checkNotification(channel, payload);
    if (this.hub.serverChannels.has(channel))
      throw new SqlError('42501', `permission denied to notify channel "${channel}"`, {
        detail: 'Only the server sends notifications on this channel.',
      });
    const dup = this.pendingNotifies.some((n) => n.channel === channel && n.payload === payload);
    if (!dup) this.pendingNotifies.push({ channel, payload, pid: this.pid });
  }

  /** AtCommit_Notify / AtAbort_Notify. */
  endTransaction(committed: boolean): void {
    const actions = this.pendingActions;
    const notifies = this.pendingNotifies;
    this.pendingActions = [];
    this.pendingNotifies = [];
    if (!committed) return;
    for (const a of actions) {
      if ('listen' in a) this.channels.add(a.listen);
      else if (a.unlisten === null) this.channels.clear();
      else this.channels.delete(a.unlisten);
    }
    for (const n of notifies) this.hub.publish(n);
  }

  /** The connection ends: it listens no more. */
  close(): void {
    this.hub.remove(this);
    this.channels.clear();
  }
}
