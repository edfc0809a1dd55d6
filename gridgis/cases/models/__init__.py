"""Cases (案件): categories, the case itself with its photos, and its life after intake."""

from .calendar import CalendarDay
from .case import Case, CasePhoto, photo_path
from .category import Category
from .workflow import CaseDepartment, CaseEvent, CaseExtension

__all__ = ["CalendarDay", "Case", "CaseDepartment", "CaseEvent", "CaseExtension", "CasePhoto", "Category", "photo_path"]
