// The playground's build: web/ -> web/dist/, served by the gateway at /.
// Assets get content hashes (cached for a year); the HTML is read by the
// gateway, which puts its configuration in it.

import { defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  publicDir: false,
  logLevel: "warn",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "playground",
    target: "es2022",
    // Source maps stay out of what is shipped; the sources are in the repository.
    sourcemap: false,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1024,
    rolldownOptions: {
      // A dependency of the sign-in parser (apg-js) starts its modules with a "use strict;" typo: harmless.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
    },
  },
});
