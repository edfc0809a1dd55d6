"""Open311 GeoReport v2 at /open311/v2/ (shared/docs/interchange.md §3): our categories as services, cases as
service requests, in JSON and XML.

Decisions, where the standard leaves room:
- Writes: POST /requests needs an api_key (`manage.py issue_api_key`); it goes through `report_intake`, the
  service every channel uses, with an optional `Idempotency-Key` header. Requests are created at once
  (service type "realtime"), so the answer carries the service_request_id (our case number) and also a token
  (that number, signed) which tokens/{token} resolves.
- Reads are public, as the standard has them, and never show the reporter: no name, phone, e-mail, device or
  account id appears in any output, whoever asks. Voided cases are never listed. With an api_key, reads are
  limited to the key's jurisdiction (a territory code prefix); a `jurisdiction_id` (a district, street,
  community or grid code) narrows them further. A wrong api_key is a 403 even where none is needed.
  A key's own report that lands outside its jurisdiction is filed there (a report is never refused for
  where it is) but is not listed to that key: no case records which key filed it.
- Dates are W3C/ISO 8601 in Beijing time (+08:00); a date without an offset is read as Beijing time. A
  /requests search spans at most 90 days (the last 90 by default; 90 from start_date, or up to end_date,
  when only one is given) and returns at most 1000 requests, newest first. service_request_id overrides
  the other filters, as the standard says, but never the visibility rules above.
- `description` is required (the standard makes it optional; a case without one is no case).
- `media_url` is neither fetched (no outbound network) nor stored: the Case model has no field for it. A
  photo may be uploaded as a multipart `media` file instead and goes through the same photo processing as
  the native API; a request's media_url is its first photo.
- `email`, `device_id` and `account_id` are accepted and not stored (no fields, and no need to contact the
  reporter beyond the phone); `first_name`/`last_name` become the reporter's name, `phone` their phone.
- `address_id` is a building code: the report is placed on that building.
- `extensions=true` adds `extended_attributes` (grid, community and street codes, assignee, geocode confidence,
  deadline) to each request.
- Error descriptions are English and name the field; codes: 400 bad input, 403 api_key, 404 unknown resource,
  405 wrong method, 409 an Idempotency-Key reused for another request.
"""
