import { test } from "node:test";
import assert from "node:assert/strict";
import { RetouchError } from "../errors.ts";
import { catalogConfigSchema, createCatalog } from "./index.ts";

test("gpt-image-1 quotes the seed's prices and n multiplies", () => {
  const catalog = createCatalog({ margin: "0.05" });
  const model = catalog.resolve("openai/gpt-image-1");
  assert.deepEqual(catalog.prices(model), { "1024x1024": "0.021", "1536x1024": "0.042", "1024x1536": "0.042" });
  const quote = catalog.quote(model, "1536x1024", 3);
  assert.equal(quote.amount, "0.126");
  assert.equal(quote.total, 126000n);
});

test("the embedded engine costs $0.001 per image whatever the margin", () => {
  const catalog = createCatalog({ margin: "0.5" });
  const quote = catalog.quote(catalog.resolve("local/content-aware-fill"), "auto", 2);
  assert.equal(quote.amount, "0.002");
});

test("an unknown model is a 400 that lists the known ones", () => {
  const catalog = createCatalog({ margin: "0.05" });
  assert.throws(
    () => catalog.resolve("openai/dall-e-9"),
    (error: unknown) =>
      error instanceof RetouchError &&
      error.status === 400 &&
      error.param === "model" &&
      /openai\/gpt-image-1/.test(error.message) &&
      /local\/content-aware-fill/.test(error.message),
  );
});

test("an operator's config file overrides margin, prices and adds models", () => {
  const config = catalogConfigSchema.parse({
    margin: "0.10",
    models: {
      "openai/gpt-image-1": { sizes: { "1024x1024": "0.02" } },
      "acme/painter": {
        provider: "local",
        upstreamModel: "patchmatch",
        sizes: { "512x512": "0.003" },
        defaultSize: "512x512",
        mask: "required",
        maxImages: 1,
        maxN: 1,
      },
    },
    disable: ["google/nano-banana"],
  });
  const catalog = createCatalog({ margin: "0.05", config });
  assert.deepEqual(catalog.prices(catalog.resolve("openai/gpt-image-1")), { "1024x1024": "0.022" });
  assert.equal(catalog.quote(catalog.resolve("acme/painter"), "512x512", 1).amount, "0.0033");
  assert.throws(() => catalog.resolve("google/nano-banana"), RetouchError);
});

test("config mistakes are refused with the reason", () => {
  assert.throws(() => catalogConfigSchema.parse({ margin: "five percent" }), /decimal string/);
  assert.throws(
    () => createCatalog({ margin: "0.05", config: { models: { "acme/x": { provider: "local" } } } }),
    /new model acme\/x needs/,
  );
});
