// Vite's `?raw` imports: the file's text as the default export (used for the API contract YAML,
// since tests inside workerd cannot read files).
declare module "*?raw" {
  const text: string;
  export default text;
}
