export * from "./jobs.js";
