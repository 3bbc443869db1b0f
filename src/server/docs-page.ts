// Renders the OpenAPI document as one self-contained HTML page for /docs
// (no CDN scripts: the gateway must be readable offline).

interface Schema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  description?: string;
  example?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  enum?: unknown[];
}

interface Operation {
  summary?: string;
  requestBody?: { content: Record<string, { schema: Schema }> };
  parameters?: { name: string; in: string; schema?: Schema }[];
  responses: Record<string, { description: string; content?: Record<string, { schema: Schema }> }>;
}

interface Document {
  info: { title: string; version: string; description?: string };
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);

export function renderDocs(document: object): string {
  const doc = document as Document;
  const schemas = doc.components?.schemas ?? {};
  const resolve = (schema: Schema): Schema =>
    schema.$ref ? (schemas[schema.$ref.split("/").pop()!] ?? schema) : schema;
  const typeOf = (schema: Schema): string => {
    const s = resolve(schema);
    if (s.anyOf) return s.anyOf.map(typeOf).join(" | ");
    if (s.type === "array" && s.items) return `${typeOf(s.items)}[]`;
    if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
    return [s.type ?? "object", s.format].filter(Boolean).join(":");
  };
  const fields = (schema: Schema): string => {
    const s = resolve(schema);
    if (!s.properties) return `<p><code>${escape(typeOf(s))}</code></p>`;
    const rows = Object.entries(s.properties).map(
      ([name, field]) =>
        `<tr><td><code>${escape(name)}</code>${s.required?.includes(name) ? " <b>required</b>" : ""}</td>` +
        `<td><code>${escape(typeOf(field))}</code></td><td>${escape(resolve(field).description ?? "")}</td></tr>`,
    );
    return `<table><tr><th>field</th><th>type</th><th>meaning</th></tr>${rows.join("")}</table>`;
  };

  const operations = Object.entries(doc.paths ?? {}).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const bodies = Object.entries(op.requestBody?.content ?? {})
        .map(([type, { schema }]) => `<h4>body: ${escape(type)}</h4>${fields(schema)}`)
        .join("");
      const responses = Object.entries(op.responses)
        .map(([status, r]) => `<li><code>${escape(status)}</code> ${escape(r.description)}</li>`)
        .join("");
      return (
        `<section><h3><span class="m">${method.toUpperCase()}</span> <code>${escape(path)}</code></h3>` +
        `<p>${escape(op.summary ?? "")}</p>${bodies}<h4>responses</h4><ul>${responses}</ul></section>`
      );
    }),
  );

  return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(doc.info.title)} API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
section{border-top:1px solid #ddd;padding:.5rem 0}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
.m{background:#234;color:#fff;padding:0 .4rem;border-radius:3px;font-size:.8em}</style></head><body>
<h1>${escape(doc.info.title)} <small>${escape(doc.info.version)}</small></h1><p>${escape(doc.info.description ?? "")}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p>${operations.join("\n")}</body></html>`;
}
