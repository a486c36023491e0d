// The page's CSV export neutralises cells a spreadsheet would run as formulas, with the same
// rule as the CLI's (cli/src/commands/format.rs): a leading ' unless the whole cell is a number.
import { test } from "node:test";
import assert from "node:assert/strict";
import { csv } from "../../www/dom.js";

test("CSV cells never run as formulas, and numbers stay numbers", () => {
  const cells = ["=1+1", "+1+1", "-2+3+cmd|' /C calc'!A0", "@SUM(1)", "\t=1", "-0.5", "+inf", "-1e-5", "a-b"];
  assert.equal(
    csv(["x"], cells.map((c) => [c])),
    "x\r\n'=1+1\r\n'+1+1\r\n'-2+3+cmd|' /C calc'!A0\r\n'@SUM(1)\r\n'\t=1\r\n-0.5\r\n+inf\r\n-1e-5\r\na-b\r\n",
  );
});
