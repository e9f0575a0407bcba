/**
 * The trial behind README "Client … why": Zoho's official Node SDK against @leadsync/zoho-sandbox, two orgs in one
 * process. Not part of the build (the SDK is no dependency). To run it:
 *   mkdir -p /tmp/zsdk/res && npm install --prefix packages/zoho/scripts --no-save --ignore-scripts @zohocrm/nodejs-sdk-8.0
 *   pnpm exec tsx packages/zoho/scripts/sdk-trial.ts        # then: rm -rf packages/zoho/scripts/node_modules
 * Seen 2026-12-03 (SDK 2.0.0): both creates 201, "for-a@example.com" lands in org B, and /tmp/zsdk/tokens.txt holds
 * client_secret, refresh_token and access_token in plain text.
 */
import * as Z from "@zohocrm/nodejs-sdk-8.0";
import { startSandbox } from "@leadsync/zoho-sandbox";

const sandbox = await startSandbox();
const a = sandbox.createAccount();
const b = sandbox.createAccount();
const env = new Z.Environment(sandbox.apiDomain, `${sandbox.accountsUrl}/oauth/v2/token`, sandbox.apiDomain);
const tokenFor = (refresh: string) => new Z.OAuthBuilder().clientId(sandbox.app.clientId).clientSecret(sandbox.app.clientSecret).refreshToken(refresh).build();
const t1 = Date.now();
try {
  await (await new Z.InitializeBuilder()).environment(env).token(tokenFor(a.connect.refreshToken)).store(new Z.FileStore("/tmp/zsdk/tokens.txt")).resourcePath("/tmp/zsdk/res").initialize();
  console.log("initialized in", Date.now() - t1, "ms");
  const ops = new Z.Record.RecordOperations("Leads");
  const body = new Z.Record.BodyWrapper();
  const rec = new Z.Record.Record();
  rec.addKeyValue("Last_Name", "Sdk");
  rec.addKeyValue("Company", "C");
  rec.addKeyValue("Email", "sdk@example.com");
  body.setData([rec]);
  const resp = await ops.createRecords(body, new Z.HeaderMap());
  console.log("create status", resp?.getStatusCode());
  const o = resp?.getObject?.();
  const d = o?.getData?.() ?? [];
  for (const r of d) console.log("  item", r.getCode?.()?.getValue?.(), r.getMessage?.(), JSON.stringify(r.getDetails?.() ?? {}).slice(0, 300));
  // switch to b, then a write "for a" issued after the switch goes to b's org
  await (await new Z.InitializeBuilder()).environment(env).token(tokenFor(b.connect.refreshToken)).switchUser();
  const resp2 = await new Z.Record.RecordOperations("Leads").createRecords(body, new Z.HeaderMap());
  console.log("second create status", resp2?.getStatusCode());
  // two jobs of one worker process, interleaved as async jobs are
  const job = async (refresh: string, email: string, pauseMs: number) => {
    await (await new Z.InitializeBuilder()).environment(env).token(tokenFor(refresh)).switchUser();
    await new Promise((r) => setTimeout(r, pauseMs)); // e.g. a DB read between switching and writing
    const r = new Z.Record.Record();
    r.addKeyValue("Last_Name", "Race");
    r.addKeyValue("Company", "C");
    r.addKeyValue("Email", email);
    const w = new Z.Record.BodyWrapper();
    w.setData([r]);
    return (await new Z.Record.RecordOperations("Leads").createRecords(w, new Z.HeaderMap()))?.getStatusCode();
  };
  console.log("interleaved", await Promise.all([job(a.connect.refreshToken, "for-a@example.com", 50), job(b.connect.refreshToken, "for-b@example.com", 0)]));
  const where = async (id: string) => ((await (await fetch(`${sandbox.url}/__sandbox/accounts/${id}/records`)).json()) as { data: { Email: string }[] }).data.map((x) => x.Email);
  console.log("org a holds", await where(a.accountId), "org b holds", await where(b.accountId));
} catch (err) {
  console.log("SDK error:", err instanceof Error ? err.message : JSON.stringify(err).slice(0, 500));
}
const count = async (id: string) => ((await (await fetch(`${sandbox.url}/__sandbox/accounts/${id}/records`)).json()) as { data: unknown[] }).data.length;
console.log("records in a:", await count(a.accountId), "in b:", await count(b.accountId));
const stats = async (id: string) => (await (await fetch(`${sandbox.url}/__sandbox/accounts/${id}/stats`)).json()) as { calls: unknown };
console.log("calls a:", JSON.stringify((await stats(a.accountId)).calls), "b:", JSON.stringify((await stats(b.accountId)).calls));
await sandbox.close();
process.exit(0);
