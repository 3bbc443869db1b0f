import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFilesystemBlobStore } from "./filesystem.ts";

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return Buffer.from(await new Response(stream).arrayBuffer()).toString();
}

test("put stores the bytes under an unguessable key and get returns them", async () => {
  const dir = await mkdtemp(join(tmpdir(), "retouch-blobs-"));
  const store = await createFilesystemBlobStore(dir);
  const key = await store.put(Buffer.from("pretend png"), "png");
  const other = await store.put(Buffer.from("pretend jpeg"), "jpeg");
  assert.match(key, /^[A-Za-z0-9_-]{22}\.png$/);
  assert.match(other, /\.jpg$/);
  assert.notEqual(key.slice(0, 22), other.slice(0, 22));
  const blob = await store.get(key);
  assert.equal(blob?.contentType, "image/png");
  assert.equal(blob?.size, 11);
  assert.equal(await text(blob!.body), "pretend png");
  assert.deepEqual((await readdir(dir)).sort(), [key, other].sort(), "no temporary files left behind");
  assert.equal(await readFile(join(dir, key), "utf8"), "pretend png");
});

test("get refuses anything that is not a stored key, including paths out of the folder", async () => {
  const root = await mkdtemp(join(tmpdir(), "retouch-blobs-"));
  const dir = join(root, "files");
  const store = await createFilesystemBlobStore(dir);
  await writeFile(join(root, "secret.png"), "secret");
  for (const key of ["../secret.png", "..%2Fsecret.png", "secret.png", "AAAAAAAAAAAAAAAAAAAAAA.png", "", ".", "x.exe"]) {
    assert.equal(await store.get(key), undefined, key);
  }
});
