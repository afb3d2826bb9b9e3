from __future__ import annotations

from django.db import models


class Job(models.Model):
    job_name = models.TextField(null=True)
    level = models.IntegerField(null=True)

    class Meta:
        app_label = "sf_djapp"


class Employee(models.Model):
    external_id = models.TextField(null=True)
    active = models.BooleanField(null=True)
    level = models.IntegerField(null=True)
    job = models.ForeignKey(Job, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        app_label = "sf_djapp"


class SkillCluster(models.Model):
    employee = models.ForeignKey(Employee, related_name="skill_clusters", on_delete=models.CASCADE)
    skill_cluster_name = models.TextField(null=True)
    proficiency_level = models.IntegerField(null=True)

    class Meta:
        app_label = "sf_djapp"


class Skill(models.Model):
    cluster = models.ForeignKey(SkillCluster, related_name="current_skills", on_delete=models.CASCADE)
    name = models.TextField(null=True)
    validation_state = models.TextField(null=True)

    class Meta:
        app_label = "sf_djapp"


class CustomPropertyValue(models.Model):
    employee = models.ForeignKey(Employee, related_name="custom_property_values", on_delete=models.CASCADE)
    name = models.TextField()
    value = models.TextField()

    class Meta:
        app_label = "sf_djapp"
