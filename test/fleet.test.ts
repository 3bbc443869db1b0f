// The fleet, as separate processes on the machine's services: PostgreSQL (a
// database of its own), Redis (a key prefix of its own), a local S3 server,
// `retouch devchain` with its facilitator, two gateways that run no edits and
// two `retouch worker`s. 100 paid edits go over both gateways (some with one
// payment sent to both at once, the second gateway answering 202 and polled on
// the first), while one worker is SIGKILLed in the middle of an edit and one
// gateway is SIGTERMed mid-traffic, as a deploy would. Then: every payment
// settled at most once and only with a result; every result served with the
// same bytes by both gateways; no 5xx; no ledger row left unfinished.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { PaymentRequired } from "@x402/core/types";
import { BASE, SOLANA } from "../src/chains/index.ts";
import { challengeIn, signPollChallenge, siwxSigner, SIWX_HEADER } from "../src/client/siwx.ts";
import { decodeHeader } from "./support/buyer.ts";
import { jsonInit, sceneEdit } from "./support/edit-input.ts";
import { startFleetServices, TEST_REDIS_URL, withDatabase, type FleetServices } from "./support/fleet.ts";
import { dataUri, solidImage } from "./support/gateway.ts";
import { liveGatewayEnv, rpcPayer, startGatewayProcess, type GatewayProcess } from "./support/processes.ts";
import { heldSuccess, startFakeOpenAi, type FakeOpenAi } from "./upstreams/fake-openai.ts";

const KEY = "sk-test-fleet-3e4f5a";
const EDIT = "/api/v1/images/image2image";
/** What clients see: the load balancer in front of both gateways. The test talks to each gateway directly. */
const PUBLIC_URL = "http://edits.fleet.test";
const EDITS = 100;
/** Edits in flight at once, spread over both gateways. */
const CONCURRENCY = 6;
/** An edit's budget (RETOUCH_UPSTREAM_TIMEOUT_MS) and then some: a poll still 202 after this is a lost edit. */
const POLL_LIMIT_MS = 60_000;

type NetworkName = "base" | "solana";

interface Answer {
  status: number;
  data?: { url: string }[];
  payment?: { status: string; tx_hash: string };
  error?: { code: string; message: string };
  id?: string;
  poll_url?: string;
}

/** One paid edit as the buyer saw it. */
interface Outcome {
  n: number;
  network: NetworkName;
  price: bigint;
  final: Answer;
  /** Every answer of every request made for it (quotes, payments, polls): gateway index and status. */
  statuses: { gateway: number; status: number; what: string }[];
}

let fleet: FleetServices;
/** Answers the first worker's OpenAI calls: it holds one, so that the worker can be killed in the middle of it. */
let slowUpstream: FakeOpenAi;
let upstream: FakeOpenAi;
let result: Buffer;

before(async () => {
  result = await solidImage(1024, 1024, "png", "#3a7");
  [fleet, slowUpstream, upstream] = await Promise.all([startFleetServices(), startFakeOpenAi(KEY, result), startFakeOpenAi(KEY, result)]);
});

after(async () => {
  await Promise.all([fleet?.close(), slowUpstream?.close(), upstream?.close()]);
});

test("a fleet of two gateways and two workers: 100 paid edits through a worker kill and a gateway deploy, each paid once, only with a result", { timeout: 300_000 }, async () => {
  const { devchain, s3 } = fleet;
  const bucket = await s3.bucket();
  const prefix = fleet.redisPrefix("fleet");
  const env: Record<string, string> = {
    ...liveGatewayEnv(devchain, "remote"),
    ...s3.env(bucket),
    DATABASE_URL: fleet.database.url,
    REDIS_URL: TEST_REDIS_URL,
    RETOUCH_REDIS_PREFIX: prefix,
    RETOUCH_PUBLIC_URL: PUBLIC_URL,
    RETOUCH_WORKERS: "0",
    OPENAI_API_KEY: KEY,
    OPENAI_BASE_URL: upstream.baseUrl,
    RETOUCH_LIMIT_QUOTES_PER_MIN: "0",
    RETOUCH_LIMIT_PAYER_CONCURRENCY: "0",
    RETOUCH_SHUTDOWN_GRACE_MS: "60000",
    RETOUCH_UPSTREAM_TIMEOUT_MS: "40000",
  };
  // The second gateway answers every paid edit 202, so that its buyers poll (on either gateway).
  const gateways: (GatewayProcess | undefined)[] = [await startGatewayProcess(env)];
  gateways.push(await startGatewayProcess({ ...env, RETOUCH_INLINE_WINDOW_MS: "0" }));
  for (const gateway of gateways) fleet.track(gateway!);
  const firstWorker = await fleet.startWorker({ ...env, OPENAI_BASE_URL: slowUpstream.baseUrl });
  const urls = gateways.map((gateway) => gateway!.url);
  const down = new Set<number>();
  /** Gateways sent SIGTERM: a refused connection there is the deploy, and the request goes to the other. */
  const stopping = new Set<number>();
  const sellerBefore = { base: await devchain.usdc("base", devchain.seller), solana: await devchain.usdc("solana", devchain.seller) };

  /** `path` on gateway `index`, or on the other one when that one no longer takes connections (a load balancer's retry). */
  async function send(index: number, url: string, init: RequestInit, outcome: Outcome, what: string): Promise<Response> {
    for (const at of [index, 1 - index]) {
      if (down.has(at)) continue;
      try {
        const response = await fetch(url.replace(PUBLIC_URL, urls[at]), init);
        outcome.statuses.push({ gateway: at, status: response.status, what });
        return response;
      } catch (error) {
        if (!gateways[at] || gateways[at]!.child.exitCode !== null || gateways[at]!.child.signalCode !== null || stopping.has(at)) continue;
        throw error;
      }
    }
    throw new Error(`no gateway took ${what} of edit #${outcome.n}`);
  }

  /** Quote, pay, send (to both gateways at once when `both`), follow 202s by polling the other gateway. */
  async function paidEdit(n: number, edit: Record<string, unknown>, network: NetworkName, both: boolean): Promise<Outcome> {
    const outcome: Outcome = { n, network, price: 0n, final: { status: 0 }, statuses: [] };
    const home = n % 2;
    const quote = await send(home, `${PUBLIC_URL}${EDIT}`, jsonInit(edit), outcome, "quote");
    assert.equal(quote.status, 402, `edit #${n}: ${await quote.clone().text()}`);
    const required = decodeHeader<PaymentRequired>(quote.headers.get("payment-required"));
    const caip2 = network === "base" ? BASE.caip2 : SOLANA.caip2;
    const accepted = required.accepts.find((a) => a.network === caip2)!;
    outcome.price = BigInt(accepted.amount);
    const payload = await rpcPayer(devchain, network).createPaymentPayload({ ...required, accepts: [accepted] });
    const payment = Buffer.from(JSON.stringify(payload)).toString("base64");
    const init = jsonInit(edit, { "PAYMENT-SIGNATURE": payment });
    const targets = both ? [0, 1] : [home];
    const answers = await Promise.all(targets.map((at) => send(at, `${PUBLIC_URL}${EDIT}`, init, outcome, "payment")));
    const finals = await Promise.all(answers.map((response, i) => settle(targets[i], response, network, outcome)));
    if (both) {
      assert.deepEqual(finals[0].data, finals[1].data, `edit #${n}: one payment, one result, whichever gateway answered`);
      assert.equal(finals[0].payment?.tx_hash, finals[1].payment?.tx_hash, `edit #${n}: one settlement`);
    }
    outcome.final = finals[0];
    return outcome;
  }

  /** A 200 as it is; a 202 polled (signed in with the paying wallet), starting on the other gateway, until it ends. */
  async function settle(at: number, response: Response, network: NetworkName, outcome: Outcome): Promise<Answer> {
    let body = (await response.json()) as Answer;
    let status = response.status;
    let headers = response.headers;
    const pollUrl = body.poll_url;
    const deadline = Date.now() + POLL_LIMIT_MS;
    for (let poll = 0; status === 202; poll++) {
      assert.ok(pollUrl?.startsWith(PUBLIC_URL), `the poll URL is on the public URL: ${pollUrl}`);
      assert.ok(Date.now() < deadline, `edit #${outcome.n} still running after ${POLL_LIMIT_MS / 1000} s of polls`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const challenge = challengeIn(headers, body);
      assert.ok(challenge, `edit #${outcome.n}: a 202 carries a sign-in challenge`);
      const on = network === "base" ? BASE : SOLANA;
      const signIn = await signPollChallenge({ challenge, gateway: PUBLIC_URL, pollUrl: pollUrl!, signer: siwxSigner(devchain.buyer, on), network: on });
      const polled = await send((at + 1 + poll) % 2, pollUrl!, { headers: { [SIWX_HEADER]: signIn } }, outcome, "poll");
      status = polled.status;
      headers = polled.headers;
      body = (await polled.json()) as Answer;
    }
    return { ...body, status };
  }

  // The OpenAI edit the first worker is killed in the middle of: it is the only worker when it arrives.
  const { reply, arrived, letGo } = heldSuccess([result]);
  slowUpstream.reply(reply);
  const openAiEdit = paidEdit(0, { model: "openai/gpt-image-1-mini", prompt: `fleet openai ${prefix}`, image: dataUri(await solidImage(64, 64)) }, "base", false);
  await arrived;
  await fleet.startWorker(env);

  const outcomes: Outcome[] = [];
  let next = 1;
  let finished = 0;
  const deploy: Promise<void>[] = [];
  async function lane(): Promise<void> {
    while (next <= EDITS) {
      const n = next++;
      const network: NetworkName = n % 5 === 0 ? "solana" : "base";
      outcomes.push(await paidEdit(n, await sceneEdit(64 + (n % 4) * 16, `fleet edit #${n} ${prefix}`), network, n % 10 === 3 && !stopping.has(1)));
      finished++;
      if (finished === 10) {
        // Mid-traffic, with the OpenAI call held: the first worker dies without a word.
        await firstWorker.stop("SIGKILL");
        letGo();
      }
      if (finished === 60) {
        stopping.add(1);
        deploy.push(gateways[1]!.stop("SIGTERM").then(() => void down.add(1)));
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  outcomes.push(await openAiEdit);
  await Promise.all(deploy);
  assert.equal(await gateways[1]!.exited, 0, "the SIGTERMed gateway drained and exited 0");

  // Every edit ended with a delivered, settled result; no answer was a 5xx.
  const serverErrors = outcomes.flatMap((o) => o.statuses.filter((s) => s.status >= 500).map((s) => ({ n: o.n, ...s })));
  assert.deepEqual(serverErrors, [], "no 5xx");
  for (const outcome of outcomes) {
    assert.equal(outcome.final.status, 200, `edit #${outcome.n}: ${JSON.stringify(outcome.final)}`);
    assert.ok(["settled", "already_settled"].includes(outcome.final.payment!.status), `edit #${outcome.n}: ${outcome.final.payment?.status}`);
    assert.equal(outcome.final.data!.length, 1);
  }
  assert.equal(outcomes.length, EDITS + 1);
  const hashes = new Set(outcomes.map((o) => o.final.payment!.tx_hash));
  assert.equal(hashes.size, outcomes.length, "one settlement per payment, none shared");
  assert.ok(
    outcomes.some((o) => o.statuses.some((s) => s.what === "poll" && s.gateway === 0 && s.status === 200)),
    "a 202 from the second gateway was answered by a poll on the first",
  );
  assert.equal(slowUpstream.received.length, 1, "the first worker reached OpenAI once before it died");
  assert.equal(upstream.received.length, 1, "the second worker ran the killed worker's OpenAI edit again");

  // The money: what the buyer lost is what the ledger says was settled, and the seller got it.
  const ledger = await ledgerRows();
  assert.deepEqual(Object.keys(ledger.byStatus), ["settled"], `no row left running, verified or settling: ${JSON.stringify(ledger.byStatus)}`);
  assert.equal(ledger.byStatus.settled, outcomes.length);
  for (const network of ["base", "solana"] as const) {
    const charged = outcomes.filter((o) => o.network === network).reduce((sum, o) => sum + o.price, 0n);
    assert.equal(ledger.paid[network] ?? 0n, charged, `${network}: the ledger's settled amounts`);
    assert.equal((await devchain.usdc(network, devchain.seller)) - sellerBefore[network], charged, `${network}: the seller received exactly the settled payments`);
  }

  // A deploy: the stopped gateway starts again; both serve every result with the same bytes.
  const restarted = await startGatewayProcess(env, { dataDir: gateways[1]!.dataDir, port: gateways[1]!.port });
  fleet.track(restarted);
  for (const outcome of outcomes) {
    const url = outcome.final.data![0].url;
    assert.ok(url.startsWith(`${PUBLIC_URL}/api/v1/files/`), url);
    const bodies = await Promise.all(
      [urls[0], restarted.url].map(async (origin) => {
        const response = await fetch(url.replace(PUBLIC_URL, origin));
        assert.equal(response.status, 200, `${url} on ${origin}`);
        return Buffer.from(await response.arrayBuffer());
      }),
    );
    assert.ok(bodies[0].length > 100 && bodies[0].equals(bodies[1]), `${url}: the same bytes from both gateways`);
  }
  assert.deepEqual(await s3.keys(bucket, "scratch/"), [], "no queued inputs left in the bucket");
});

async function ledgerRows(): Promise<{ byStatus: Record<string, number>; paid: Partial<Record<NetworkName, bigint>> }> {
  return withDatabase(fleet.database.url, async (client) => {
    const { rows } = await client.query<{ status: string; network: string; count: string; total: string | null }>(
      "SELECT status, network, count(*) AS count, sum(amount::numeric)::text AS total FROM paid_edits GROUP BY status, network",
    );
    const byStatus: Record<string, number> = {};
    const paid: Partial<Record<NetworkName, bigint>> = {};
    for (const row of rows) {
      byStatus[row.status] = (byStatus[row.status] ?? 0) + Number(row.count);
      const name: NetworkName = row.network === BASE.caip2 ? "base" : "solana";
      if (row.status === "settled") paid[name] = (paid[name] ?? 0n) + BigInt(row.total ?? "0");
    }
    return { byStatus, paid };
  });
}
