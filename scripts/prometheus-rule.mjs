#!/usr/bin/env node
// Writes deploy/k8s/components/prometheus-operator/prometheus-rule.yaml: the alert rules of
// deploy/prometheus/alerts.yml as a PrometheusRule, for the Prometheus Operator. Run after
// changing alerts.yml; deploy/test checks that the two hold the same rules.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { root } from './ensure-built.mjs'

const alerts = parse(readFileSync(join(root, 'deploy', 'prometheus', 'alerts.yml'), 'utf8'))
const rule = { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'tickets' }, spec: { groups: alerts.groups } }
const header = '# Generated from deploy/prometheus/alerts.yml by scripts/prometheus-rule.mjs: change the rules there.\n'
writeFileSync(join(root, 'deploy', 'k8s', 'components', 'prometheus-operator', 'prometheus-rule.yaml'), header + stringify(rule, { lineWidth: 0 }))
