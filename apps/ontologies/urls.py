from django.urls import path

from apps.ontologies import apis

urlpatterns = [
    path("ontologies", apis.OntologyListCreateApi.as_view(), name="api-ontologies"),
    path("ontologies/<str:ontology_id>", apis.OntologyDetailApi.as_view(), name="api-ontology-detail"),
    path("ontologies/<str:ontology_id>/versions", apis.OntologyVersionListApi.as_view(), name="api-ontology-versions"),
    path("ontologies/<str:ontology_id>/diff", apis.OntologyDiffApi.as_view(), name="api-ontology-diff"),
    path("ontologies/<str:ontology_id>/clone", apis.OntologyCloneApi.as_view(), name="api-ontology-clone"),
    path("ontologies/<str:ontology_id>/archive", apis.OntologyArchiveApi.as_view(), name="api-ontology-archive"),
    path("ontologies/<str:ontology_id>/unarchive", apis.OntologyUnarchiveApi.as_view(), name="api-ontology-unarchive"),
    path("features/<str:schema_id>", apis.FeatureDetailApi.as_view(), name="api-feature-detail"),
    path(
        "features/<str:schema_id>/annotations",
        apis.FeatureAnnotationListApi.as_view(),
        name="api-feature-annotations",
    ),
]
