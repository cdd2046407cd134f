#!/usr/bin/env node
// The kmodlab command: runs the compiled CLI (npm install / npm ci builds it via "prepare").
import '../dist/src/cli/main.js';
