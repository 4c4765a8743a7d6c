// Starts Swagger UI on /docs (development only) with the service's own schema.
window.SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
});
