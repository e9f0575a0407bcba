export { buildApiApp, type BuildApiAppOptions } from "./app.js";
export type { ApiDeps } from "./deps.js";
export { signDevToken } from "./dev-token.js";
export { AppError } from "./errors.js";
export { BULL_BOARD_PATH } from "./plugins/bull-board.js";
