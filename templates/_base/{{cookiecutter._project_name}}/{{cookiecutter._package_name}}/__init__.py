"""{{ cookiecutter._project_name }}: a dlpath '{{ cookiecutter._template_name }}' project."""
