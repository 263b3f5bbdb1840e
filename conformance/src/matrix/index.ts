/** `peer-conformance matrix FILE`: the suite against several targets, as one targets × cases matrix. */
export { MATRIX_USAGE, matrixMain, type MatrixIo } from "./main.ts";
export { parseMatrixFile, type MatrixFile, type MatrixTarget } from "./targets.ts";
export { renderMatrixHtml, renderMatrixMarkdown, type TargetRun } from "./render.ts";
