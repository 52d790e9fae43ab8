"""Generation: overlay rendering of templates and the render contexts of projects and entities."""
