"""The built-in schemas as Python data: written by ``scripts/make_builtin_data.py`` from
``skillfilter/data/*.schema.json``: edit those, then run it (``tests/test_schema.py`` checks that
both agree)."""

from __future__ import annotations

from typing import Any

SCHEMAS: dict[str, Any] = {'skillengine': {'name': 'skillengine',
                 'description': 'The filterable entities of the TechWolf SkillEngine API. Derived from '
                                "the API's public documentation (the filtering tutorial and the entity "
                                'reference pages): it lists the fields those pages show, not '
                                'necessarily every field the API accepts. To replace it pass your own '
                                'file (`--schema FILE`, `Schema.load(path)`); to extend it use '
                                '`Schema.builtin().extend({...})`. See docs/schema.md.',
                 'source': 'public documentation of the SkillEngine API (filtering tutorial, entity '
                           'reference)',
                 'entities': {'employees': {'description': 'Employees (profiles).',
                                            'fields': {'external_id': {'type': 'text',
                                                                       'nullable': False},
                                                       'assigned_position': 'text',
                                                       'assigned_position_id': 'text',
                                                       'active': {'type': 'boolean', 'nullable': False},
                                                       'low_data_availability': 'boolean',
                                                       'organisational_unit': 'text',
                                                       'last_updated': 'datetime'},
                                            'custom_properties': True},
                              'jobs': {'description': "Jobs (positions) of the organisation's job "
                                                      'architecture.',
                                       'fields': {'external_id': {'type': 'text', 'nullable': False},
                                                  'job_name': 'text',
                                                  'job_family_id': 'text',
                                                  'active': {'type': 'boolean', 'nullable': False}},
                                       'relations': {'job_family': {'entity': 'job_families',
                                                                    'many': False}}},
                              'job_families': {'description': 'Job families that group jobs.',
                                               'fields': {'external_id': {'type': 'text',
                                                                          'nullable': False},
                                                          'job_family_name': 'text',
                                                          'job_family_group': 'text',
                                                          'active': {'type': 'boolean',
                                                                     'nullable': False}}},
                              'vacancies': {'description': 'Open vacancies.',
                                            'fields': {'external_id': {'type': 'text',
                                                                       'nullable': False},
                                                       'job_title': 'text',
                                                       'job_description': 'text',
                                                       'company': 'text',
                                                       'active': {'type': 'boolean', 'nullable': False},
                                                       'last_updated': 'datetime'},
                                            'custom_properties': True},
                              'courses': {'description': 'Learning content.',
                                          'fields': {'external_id': {'type': 'text', 'nullable': False},
                                                     'active': {'type': 'boolean', 'nullable': False},
                                                     'last_updated': 'datetime'},
                                          'custom_properties': True}}},
 'export': {'name': 'export',
            'description': 'Records of the SkillEngine skill-cluster export (POST '
                           '/export/employees/skill_clusters), as its public reference shows them: an '
                           "employee's external_id and its skill clusters, each with current, related "
                           'and rejected skills, and nothing else (no custom properties, no active or '
                           "last_updated: those are the request's own `filters`, see `skillfilter "
                           'export-request`). Use it to validate and type filters over exported data '
                           '(`skillfilter filter --schema export --entity employees`).',
            'source': 'public reference of the export endpoint /export/employees/skill_clusters',
            'default_entity': 'employees',
            'entities': {'employees': {'description': 'One exported record.',
                                       'fields': {'external_id': {'type': 'text', 'nullable': False}},
                                       'relations': {'skill_clusters': {'entity': 'skill_clusters',
                                                                        'many': True}}},
                         'skill_clusters': {'description': 'A skill cluster of an employee.',
                                            'fields': {'skill_cluster_id': 'text',
                                                       'skill_cluster_name': 'text',
                                                       'domain_name': 'text',
                                                       'proficiency_level': 'integer',
                                                       'validation_state': 'text',
                                                       'sources': 'list[text]'},
                                            'relations': {'current_skills': {'entity': 'skills',
                                                                             'many': True},
                                                          'related_skills': {'entity': 'skills',
                                                                             'many': True},
                                                          'rejected_skills': {'entity': 'skills',
                                                                              'many': True}}},
                         'skills': {'description': 'A skill within a cluster.',
                                    'fields': {'name': 'text',
                                               'skill_id': 'text',
                                               'validation_state': 'text',
                                               'skill_sources': 'list[text]'}}}}}
