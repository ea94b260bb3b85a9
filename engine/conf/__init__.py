"""The conf model: parse and render .conf files, the TA layout and its linter."""
