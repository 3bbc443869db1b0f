// How the edit routes describe themselves in a 402, for the catalogs that index
// x402 services (the Bazaar discovery extension, and v1's `outputSchema`): the
// body's JSON Schema is derived from the zod schemas that validate requests, so
// what a catalog lists cannot drift from what the server accepts.

import { getOpenApiMetadata } from "@asteasolutions/zod-to-openapi";
import { z } from "@hono/zod-openapi";
import { bazaarResourceServerExtension, declareDiscoveryExtension } from "@x402/extensions/bazaar";
import type { ServiceListing } from "../config.ts";
import type { ResourceOffer } from "../payments/index.ts";
import { OPENAI_EDIT_PATH } from "./answer-format.ts";
import { ImageEditMultipart, ImageToImageJson, ImageToImageResult } from "./schemas.ts";

/** A 1x1 PNG: the example stands for the caller's picture and mask (data URIs). */
const EXAMPLE_PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==";

const OUTPUT_EXAMPLE = {
  created: 1764000000,
  data: [{ url: "https://retouch.example/api/v1/files/1764000000-abc.png" }],
  price: { amount: "0.021", currency: "USD" },
  size: "1024x1024",
  output_format: "png",
  payment: { status: "settled", tx_hash: "0x9b2f…", network: "eip155:8453" },
};

/**
 * The 402 offer of each edit route, by the URL a 402 names (`publicUrl` + path): the listing, the
 * Bazaar extension (method, body type, body schema, output schema and examples) and v1's discovery field.
 */
export function editRouteOffers(publicUrl: string, paths: readonly string[], listing: ServiceListing): Map<string, ResourceOffer> {
  // The output's shape without its prose: the 402 header carries all of this, and proxies cap header sizes.
  const output = { example: OUTPUT_EXAMPLE, schema: jsonSchema(ImageToImageResult, "output", false) };
  return new Map(
    paths.map((path) => {
      const form = path === OPENAI_EDIT_PATH;
      const body = form
        ? { schema: jsonSchema(ImageEditMultipart, "input"), example: { prompt: "remove the red ball", image: "(the picture, a file part)", mask: "(the mask, a file part)" } }
        : { schema: jsonSchema(ImageToImageJson, "input"), example: { prompt: "remove the red ball", image: EXAMPLE_PNG, mask: EXAMPLE_PNG } };
      const declared = declareDiscoveryExtension({ bodyType: form ? "form-data" : "json", input: body.example, inputSchema: body.schema, output });
      // The same enrichment an x402 resource server applies for its HTTP routes (it adds the method).
      const bazaar = bazaarResourceServerExtension.enrichDeclaration!(declared.bazaar, { method: "POST", adapter: { getPath: () => path }, routePattern: path });
      const offer: ResourceOffer = {
        description: listing.description,
        listing: { serviceName: listing.serviceName, tags: listing.tags, ...(listing.iconUrl ? { iconUrl: listing.iconUrl } : {}) },
        extensions: { bazaar },
        v1OutputSchema: {
          input: { type: "http", method: "POST", discoverable: true, bodyType: form ? "form-data" : "json", bodyFields: body.schema.properties },
          output: output.schema,
        },
      };
      return [`${publicUrl}${path}`, offer] as const;
    }),
  );
}

/** A zod schema as plain JSON Schema (draft 2020-12), with the descriptions and examples written for /openapi.json. */
function jsonSchema(schema: z.ZodType, io: "input" | "output", annotated = true): { type: "object"; properties: Record<string, unknown> } & Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    io,
    target: "draft-2020-12",
    unrepresentable: "any",
    override: ({ zodSchema, jsonSchema: out }) => {
      const meta = getOpenApiMetadata(zodSchema as never) as { description?: string; example?: unknown };
      if (annotated && meta.description) out.description = meta.description;
      if (annotated && meta.example !== undefined) out.examples = [meta.example];
      // Formats ("uri") are not core JSON Schema: a catalog's validator would only warn about them.
      delete out.format;
    },
  });
  return rest as { type: "object"; properties: Record<string, unknown> };
}
