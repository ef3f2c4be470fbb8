import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The web UI: built into ui/dist, which the Worker serves as static assets (wrangler.toml [assets]).
// `npm run dev:ui` serves it with hot reload and sends /api to a local `npm start` on port 8787.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 2048,
  },
  server: {
    host: "127.0.0.1",
    proxy: { "/api": { target: "http://127.0.0.1:8787", ws: true } },
  },
});
