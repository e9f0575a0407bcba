import type { AddressInfo } from "node:net";

/** What an emulator's HTTP app offers here (a Fastify instance fits). */
export interface ListeningApp {
  listen(options: { port: number; host: string }): Promise<unknown>;
  close(): Promise<unknown>;
  server: { address(): AddressInfo | string | null };
}

/**
 * Starts an emulator's HTTP app and answers its base URL (`http://host:port`, IPv6 hosts bracketed). An app that
 * cannot listen (a taken port) is closed before the error goes on, so nothing it started keeps the process alive.
 */
export async function listenForUrl(app: ListeningApp, options: { port: number; host: string }, emulator: string): Promise<string> {
  try {
    await app.listen(options);
  } catch (error) {
    await app.close();
    throw error;
  }
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error(`${emulator}: server has no TCP address`);
  return httpUrl(options.host, address.port);
}

/** `http://host:port`, an IPv6 host in brackets. */
export function httpUrl(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}
