// Shared between test/support/crashWriter.ts and test/int/crash.int.test.ts.

/** The deterministic vector the crash writer stores for item `i` of batch `batchId` (4-300 floats). */
export function crashVector(batchId: string, i: number): Float32Array {
  let h = 2166136261;
  for (const c of `${batchId}/${i}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  const length = 4 + (h % 297);
  return Float32Array.from({ length }, (_, j) => ((h >>> (j % 24)) & 0xff) / 8 - j * 0.25);
}
