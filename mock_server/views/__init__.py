"""The thin web layer: Flask blueprints that parse requests and render the domain's answers."""
