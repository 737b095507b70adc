from django.apps import AppConfig


class OntologiesConfig(AppConfig):
    name = "apps.ontologies"
    label = "ontologies"
