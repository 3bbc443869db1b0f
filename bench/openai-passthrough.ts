// The baseline of bench/openai-mask.bench.ts: the least an OpenAI-compatible
// gateway can do for an edit. It forwards the caller's multipart body to the
// upstream unchanged (no validation, no mask conversion), decodes the b64_json
// answer, stores the image on disk and answers a URL. Run as its own process:
// UPSTREAM=http://host:port/v1 DATA_DIR=/tmp/x node --import tsx bench/openai-passthrough.ts
// It prints "listening <port>" once it accepts requests.

import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

const upstream = process.env.UPSTREAM!;
const dataDir = process.env.DATA_DIR!;

const server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const answer = await fetch(`${upstream}/images/edits`, {
    method: "POST",
    headers: { "content-type": req.headers["content-type"]!, authorization: "Bearer bench" },
    body: Buffer.concat(chunks),
  });
  const body = (await answer.json()) as { data: { b64_json: string }[] };
  const name = `${randomBytes(16).toString("base64url")}.png`;
  await writeFile(join(dataDir, name), Buffer.from(body.data[0].b64_json, "base64"));
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ created: Math.floor(Date.now() / 1000), data: [{ url: `http://127.0.0.1/files/${name}` }] }));
});
server.listen(0, "127.0.0.1", () => console.log(`listening ${(server.address() as { port: number }).port}`));
