import { connect } from 'node:net';

/** One RESP reply: a string, an integer, null, an error or an array of those. */
export type RespReply = string | number | null | Error | RespReply[];

function encode(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return out;
}

/** Parses one reply at offset; returns [reply, next offset] or undefined when incomplete. */
function parse(buf: Buffer, offset: number): [RespReply, number] | undefined {
  const end = buf.indexOf('\r\n', offset);
  if (end === -1) return undefined;
  const type = String.fromCharCode(buf[offset] ?? 0);
  const line = buf.toString('utf8', offset + 1, end);
  const next = end + 2;
  switch (type) {
    case '+':
      return [line, next];
    case '-':
      return [new Error(line), next];
    case ':':
      return [Number(line), next];
    case '$': {
      const len = Number(line);
      if (len < 0) return [null, next];
      if (buf.length < next + len + 2) return undefined;
      return [buf.toString('utf8', next, next + len), next + len + 2];
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return [null, next];
      const items: RespReply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const parsed = parse(buf, at);
        if (!parsed) return undefined;
        items.push(parsed[0]);
        at = parsed[1];
      }
      return [items, at];
    }
    default:
      return [new Error(`unexpected RESP type ${JSON.stringify(type)}`), buf.length];
  }
}

/**
 * Sends commands on one fresh connection and resolves with one reply per command (errors as Error
 * values). Rejects on connection failure or after timeoutMs. The harness's only Redis client, so it
 * needs no driver.
 */
export function sendCommands(host: string, port: number, commands: readonly (readonly string[])[], timeoutMs = 1000): Promise<RespReply[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis-harness: no reply from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (error: Error | undefined, replies?: RespReply[]): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(replies ?? []);
    };
    socket.once('error', (error) => finish(error));
    socket.once('connect', () => socket.write(commands.map(encode).join('')));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const replies: RespReply[] = [];
      let at = 0;
      while (replies.length < commands.length) {
        const parsed = parse(data, at);
        if (!parsed) return;
        replies.push(parsed[0]);
        at = parsed[1];
      }
      finish(undefined, replies);
    });
    socket.once('close', () => finish(new Error(`redis-harness: ${host}:${port} closed the connection`)));
  });
}

/** Sends one command and resolves with its reply (a server error reply rejects). */
export async function sendCommand(
  host: string,
  port: number,
  args: readonly string[],
  options: { password?: string; timeoutMs?: number } = {},
): Promise<RespReply> {
  const commands = options.password === undefined ? [args] : [['AUTH', options.password], args];
  const replies = await sendCommands(host, port, commands, options.timeoutMs);
  const reply = replies[replies.length - 1] ?? null;
  for (const r of replies) if (r instanceof Error) throw r;
  return reply;
}
