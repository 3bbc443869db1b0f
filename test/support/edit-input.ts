// A ready-made edit request body: the synthetic scene with a mask over its ball.

import sharp from "sharp";
import { dataUri } from "./gateway.ts";
import { makeScene, squareMask } from "./scene.ts";

export async function sceneEdit(size = 256, prompt = "remove the ball"): Promise<Record<string, unknown>> {
  const scene = makeScene({ width: size, height: size });
  const photo = await sharp(scene.rgb, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
  const mask = await sharp(squareMask(size, size, scene.disc.cx, scene.disc.cy, scene.disc.r * 2 + 12), {
    raw: { width: size, height: size, channels: 1 },
  })
    .png()
    .toBuffer();
  return { model: "local/content-aware-fill", prompt, image: dataUri(photo), mask: dataUri(mask) };
}

export function jsonInit(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}
