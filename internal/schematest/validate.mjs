// Validates YAML documents against arsync's JSON Schemas with ajv, parsing
// the YAML with js-yaml, as other people's tools do. internal/schematest
// runs it; it is not meant to be run by hand.
//
// stdin: {"schemas": {"<file name>": <schema JSON>, ...},
//         "files": [{"name": "...", "schema": "<file name>", "text": "<YAML>"}, ...]}
// stdout: {"warnings": ["..."],
//          "files": [{"name": "...", "parseError": "...",
//                     "docs": [{"valid": true, "errors": [{"instancePath", "keyword", "message"}]}]}]}
// A schema that ajv refuses in strict mode ends the run with exit status 1.

import Ajv from "ajv";
import addFormats from "ajv-formats";
import yaml from "js-yaml";

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const req = JSON.parse(Buffer.concat(chunks).toString("utf8"));

// Strict mode turns every questionable schema construct into an error or a
// warning; warnings are collected and reported, so the Go test fails on
// them too.
const warnings = [];
const logger = {
  log: () => {},
  warn: (...args) => warnings.push(args.join(" ")),
  error: (...args) => warnings.push(args.join(" ")),
};
const ajv = new Ajv({ strict: true, allErrors: true, logger });
addFormats(ajv);

const validators = {};
for (const [name, schema] of Object.entries(req.schemas)) {
  try {
    validators[name] = ajv.compile(schema);
  } catch (e) {
    process.stderr.write(`ajv refuses ${name}: ${e.message}\n`);
    process.exit(1);
  }
}

const out = { warnings, files: [] };
for (const f of req.files) {
  const res = { name: f.name, docs: [] };
  out.files.push(res);
  const validate = validators[f.schema];
  if (!validate) {
    res.parseError = `no schema named ${f.schema}`;
    continue;
  }
  let docs;
  try {
    // js-yaml's default schema, as most tools use it: YAML 1.2 core types
    // plus YAML 1.1's timestamps, merge keys and binary.
    docs = yaml.loadAll(f.text);
  } catch (e) {
    res.parseError = e.message;
    continue;
  }
  for (const doc of docs) {
    if (doc === null || doc === undefined) continue; // an empty document
    const valid = validate(doc);
    res.docs.push({
      valid,
      errors: (validate.errors || []).map((e) => ({
        instancePath: e.instancePath,
        keyword: e.keyword,
        message: e.message,
      })),
    });
  }
}
process.stdout.write(JSON.stringify(out));
