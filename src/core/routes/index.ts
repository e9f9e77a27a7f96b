export { compileRoutes } from "./compile";
export { DEFAULT_API_URLS, DEFAULT_S3_KEY } from "./defaults";
export { loadRoutesFile } from "./load";
export { parseRoutes } from "./parse";
