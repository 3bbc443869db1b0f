// Writes examples/photo.png and examples/mask.png: the README's curl example
// input (a synthetic field with a red ball to remove, and a mask over it).

import { mkdir } from "node:fs/promises";
import sharp from "sharp";
import { makeScene, squareMask } from "../test/support/scene.ts";

const size = 512;
const scene = makeScene({ width: size, height: size });
const side = Math.round(scene.disc.r * 2 + 24);
await mkdir("examples", { recursive: true });
await sharp(scene.rgb, { raw: { width: size, height: size, channels: 3 } }).png().toFile("examples/photo.png");
await sharp(squareMask(size, size, scene.disc.cx, scene.disc.cy, side), { raw: { width: size, height: size, channels: 1 } })
  .png()
  .toFile("examples/mask.png");
console.log(`wrote examples/photo.png and examples/mask.png (${size}x${size}, ${side}px mask over the ball)`);
