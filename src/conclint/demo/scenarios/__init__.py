"""The scenarios: for each hazard conclint reports, the handler written the way people
write it and the fixed one, side by side. This folder is exactly what
`conclint check src/conclint/demo/scenarios` reads and what `conclint demo reproduce`
runs; a `# expect: CODE` comment marks each line where a finding must land."""
