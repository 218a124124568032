"""Excel in and out, on bytes: the shared xlsx toolkit (:mod:`excel.kit`), the zip and XML
safety gate every uploaded workbook passes (:mod:`excel.safety`), the importer
(:mod:`excel.read`) and one writer per workbook (report, template, reminders, audit).
No Streamlit here."""
