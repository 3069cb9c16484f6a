// The headers the engine sends with the page's files (core/http/api_router.cpp), which the
// mock sends too, so every mock test runs the page under the engine's Content-Security-Policy;
// real_engine.test.mjs checks the engine sends these.
export const pageHeaders = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; " +
    "form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
};
