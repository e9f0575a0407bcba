import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

/**
 * A TCP proxy in front of the sandbox that answers its next `resets` connections with a TCP reset (RST) as soon as
 * the request arrives: the "connection reset by peer" a flaky network gives HubSpot clients.
 */
export interface ResetProxy {
  url: string;
  resetNext(count: number): void;
  resetsDone(): number;
  close(): Promise<void>;
}

export async function startResetProxy(targetUrl: string): Promise<ResetProxy> {
  const target = new URL(targetUrl);
  let pending = 0;
  let done = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => undefined);
    if (pending > 0) {
      pending--;
      client.once("data", () => {
        done++;
        client.resetAndDestroy();
      });
      return;
    }
    const upstream = connect({ host: target.hostname, port: Number(target.port) });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    resetNext: (count) => {
      pending += count;
    },
    resetsDone: () => done,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
