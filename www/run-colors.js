// One colour per run everywhere: the runs table, the workspace panels, the detail chart and its
// legend. A run keeps its colour for the page's life, whatever the filter or sort.
import { PALETTE } from "./chart.js";

const assigned = new Map(); // "fileKey runId" -> palette index

/** The colour of a row {fileKey, run}: given in the order runs are first listed. */
export function runColor(row) {
  const key = `${row.fileKey} ${row.run.id}`;
  let index = assigned.get(key);
  if (index === undefined) {
    index = assigned.size;
    assigned.set(key, index);
  }
  return PALETTE[index % PALETTE.length];
}
