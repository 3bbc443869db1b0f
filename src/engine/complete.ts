// Multi-scale EM completion (Wexler et al. 2007) of one work region: solve the hole at a coarse
// scale where it is small, then carry the patch matches up level by level to full resolution.

import { firstGuess } from "./guess.ts";
import { downsample, findPatches, type Level, type Patches } from "./level.ts";
import { holeBounds } from "./mask.ts";
import { identityNnf, improveMatches, measureTexture, randomMatches, REUSE_WEIGHT, upsampleMatches, type Nnf } from "./patchmatch.ts";
import type { Random } from "./random.ts";
import { smoothSeams } from "./seams.ts";
import { copyMatches, voteAverage } from "./vote.ts";

/**
 * Where the time goes. Coarse levels are cheap (a 400 px hole is 25 px wide at the top of the
 * pyramid), so they get the many EM iterations that settle the layout; the full-resolution level
 * only copies pixels along the matches carried up to it. Searching there again made the fill both
 * slower and flatter (its plain SSD drifts to the flattest sources): on the photo benchmark one
 * more sweep at full resolution took the sharpness of rectangles from 0.86 to 0.78 of the original's.
 */
export const SCHEDULE = {
  /** The pyramid is deep enough that the hole's longer side is at most this at the top. */
  coarseHoleSide: 32,
  /** Patches are 7x7; smaller only when a tiny picture has no 7x7 block of known pixels. */
  patchRadius: 3,
  /** A level with fewer usable source patches than this is too coarse to be the top. */
  minCoarseSources: 64,
  /**
   * `texture`: matches also weigh how much flatter or busier a source is than the hole's rim
   * (TEXTURE_WEIGHT, BUSY_WEIGHT). `reuse`: a source costs more for each target already copying it
   * (REUSE_WEIGHT), here only: the first guess is smoothest at this level.
   */
  coarsest: { em: 6, pm: 3, texture: true, reuse: true },
  /**
   * The levels between: 6 EM iterations, where 2 left thin holes unsettled. On the photo benchmark
   * (BENCH_QUICK, seeds 1-3, mean PSNR of the ten photos) strokes went from 18.02 dB to 18.49 (the
   * retina's vessels 24.3 to 27.1, the coffee cup 17.0 to 17.9), rectangles stayed at 18.59 (none
   * but the portrait's lost more than 0.1 dB; it lost 0.26). A level of over `manyTargets` (a hole
   * over about 170 px on a side there: at 4096 px with a 1600 px hole, the two levels above the half
   * one) keeps 2: its iterations cost the most, and 6 there took that fill from 1.9 s to 3.9 s. With
   * the limit it takes as long as with 2 everywhere; 1024 px with a 400 px hole, 0.44 s to 0.57 s.
   */
  middle: { em: 6, pm: 2, searchFraction: 0.25, texture: true, manyTargets: 30_000, emMany: 2 },
  /**
   * One level below full resolution, where a level costs a quarter of the full one. Above
   * `maxTargets` (a hole of about 1000x1000 px at full size) it only carries the matches up, as
   * the full level does: at 4096 px its search was the largest single cost left, and a seam placed
   * at 4 px instead of 2 px is not visible at that size.
   */
  half: { em: 1, pm: 1, searchFraction: 0.125, texture: true, maxTargets: 250_000 },
};

interface Stage {
  level: Level;
  patches: Patches;
  nnf: Nnf;
}

/**
 * Fills `region.rgb` where `region.hole` is 1, in place. `onStage` sees the estimate at each coarse
 * level as it is settled (smaller than the region: a preview of the fill to come). Returns false (and leaves the picture
 * alone) when the region holds no patch of known picture to copy from.
 */
export function completeRegion(region: Level, random: Random, onStage?: (estimate: Level) => void): boolean {
  const stages = buildStages(region);
  if (stages === null) return false;
  const top = stages.length - 1;

  const coarsest = stages[top];
  firstGuess(coarsest.level);
  randomMatches(coarsest.level, coarsest.patches, coarsest.nnf, random);
  emIterations(coarsest, SCHEDULE.coarsest, Math.max(coarsest.level.width, coarsest.level.height), random);
  if (top > 0) onStage?.(coarsest.level);

  for (let l = top - 1; l >= 0; l--) {
    const stage = stages[l];
    upsampleMatches(stages[l + 1], stage, random);
    // The estimate is rebuilt from this level's own (sharp) pixels, never from the blurrier coarse picture.
    copyMatches(stage.level, stage.patches, stage.nnf);
    if (l === 0) {
      smoothSeams(stage.level, stage.nnf, stage.patches.radius);
      break;
    }
    const { middle } = SCHEDULE;
    const plan = l === 1 ? SCHEDULE.half : stage.patches.targets.length > middle.manyTargets ? { ...middle, em: middle.emMany } : middle;
    if (l > 1 || stage.patches.targets.length <= SCHEDULE.half.maxTargets) {
      const radius = Math.max(4, Math.round(plan.searchFraction * Math.max(stage.level.width, stage.level.height)));
      emIterations(stage, plan, radius, random);
    }
    onStage?.(stage.level);
  }
  return true;
}

/** A coarse level's EM iterations: `pm` PatchMatch sweeps, then an averaging vote, `em` times. */
function emIterations(stage: Stage, plan: { em: number; pm: number; texture: boolean; reuse?: boolean }, searchRadius: number, random: Random): void {
  const { first, end } = stage.patches.span;
  const scratch = new Float32Array((end - first) * 4);
  const texture = plan.texture ? measureTexture(stage.level, stage.patches) : undefined;
  const reuse = plan.reuse && texture ? REUSE_WEIGHT * texture.expected : undefined;
  for (let i = 0; i < plan.em; i++) {
    improveMatches(stage.level, stage.patches, stage.nnf, plan.pm, searchRadius, random, texture, reuse);
    voteAverage(stage.level, stage.patches, stage.nnf, scratch);
  }
}

function buildStages(region: Level): Stage[] | null {
  let base: Patches | null = null;
  // Tiny pictures may have no 7x7 block of known pixels; smaller patches still continue colour.
  for (let radius = SCHEDULE.patchRadius; radius >= 1 && base === null; radius--) {
    const patches = findPatches(region, radius);
    if (patches.sourceCount > 0) base = patches;
  }
  if (base === null) return null;
  const stages: Stage[] = [{ level: region, patches: base, nnf: identityNnf(base) }];

  const depth = Math.max(0, Math.ceil(Math.log2(holeSide(region) / SCHEDULE.coarseHoleSide)));
  for (let l = 1; l <= depth; l++) {
    const level = downsample(stages[l - 1].level);
    const patches = findPatches(level, base.radius);
    if (patches.sourceCount < SCHEDULE.minCoarseSources) break;
    stages.push({ level, patches, nnf: identityNnf(patches) });
  }
  return stages;
}

/** Longer side of the hole's bounding box. */
function holeSide({ width, height, hole }: Level): number {
  const box = holeBounds(hole, width, height);
  return box ? Math.max(box.x1 - box.x0 + 1, box.y1 - box.y0 + 1) : 1;
}
