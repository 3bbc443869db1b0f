// A picture chosen, dropped or pasted, checked in the browser with the
// gateway's own limits before anything is sent: PNG, JPEG or WebP by its bytes
// (not its name), each side within min..max, and a body that fits.

export interface Picture {
  /** The file's own bytes as a data URI: sent as they are, never re-encoded. */
  dataUri: string;
  bytes: number;
  type: "image/png" | "image/jpeg" | "image/webp";
  width: number;
  height: number;
  bitmap: ImageBitmap;
  name: string;
}

export interface PictureLimits {
  minImageSide: number;
  maxImageSide: number;
  maxBodyBytes: number;
}

/** Why a picture was refused, in words for the person who chose it. */
export class PictureError extends Error {
  override name = "PictureError";
}

function sniff(head: Uint8Array): Picture["type"] | undefined {
  const at = (offset: number, bytes: number[]) => bytes.every((byte, i) => head[offset + i] === byte);
  if (at(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (at(0, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (at(0, [0x52, 0x49, 0x46, 0x46]) && at(8, [0x57, 0x45, 0x42, 0x50])) return "image/webp";
  return undefined;
}

/** Base64 grows a body by 4/3; the JSON around it is small. */
export const encodedBytes = (bytes: number) => Math.ceil(bytes / 3) * 4;

export async function readPicture(blob: Blob, name: string, limits: PictureLimits): Promise<Picture> {
  const type = sniff(new Uint8Array(await blob.slice(0, 16).arrayBuffer()));
  if (!type) throw new PictureError(`${name} is not a PNG, JPEG or WebP picture`);
  if (encodedBytes(blob.size) > limits.maxBodyBytes) {
    throw new PictureError(`${name} is ${mb(blob.size)}; this gateway takes requests up to ${mb(limits.maxBodyBytes)} (about ${mb((limits.maxBodyBytes * 3) / 4)} of picture)`);
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    throw new PictureError(`${name} could not be decoded: the file is damaged or not really a ${type.slice(6).toUpperCase()}`);
  }
  const { width, height } = bitmap;
  const { minImageSide: min, maxImageSide: max } = limits;
  if (width < min || height < min || width > max || height > max) {
    bitmap.close();
    throw new PictureError(`${name} is ${width}x${height}; each side must be from ${min} to ${max} pixels`);
  }
  const dataUri = await new Promise<string>((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^;,]*/, `data:${type}`));
    reader.onerror = () => reject(new PictureError(`${name} could not be read`));
    reader.readAsDataURL(blob);
  });
  return { dataUri, bytes: blob.size, type, width, height, bitmap, name };
}

export function mb(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}
