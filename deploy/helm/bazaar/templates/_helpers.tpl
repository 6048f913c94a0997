{{/* Names and labels shared by every object. */}}
{{- define "bazaar.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{ else }}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{ end }}
{{- end }}

{{- define "bazaar.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "bazaar.labels" -}}
{{ include "bazaar.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "bazaar.secretName" -}}
{{- default (printf "%s-secrets" (include "bazaar.fullname" .)) .Values.existingSecret }}
{{- end }}

{{/* The migration hook's own Secret (DATABASE_URL only). It is a hook, recreated on every
sync, so it must never be the Secret the running pods read. */}}
{{- define "bazaar.migrateSecretName" -}}
{{- default (printf "%s-migrate-secrets" (include "bazaar.fullname" .)) .Values.existingSecret }}
{{- end }}

{{/* Whether this release runs pods: every role but the blue/green router. */}}
{{- define "bazaar.runsPods" -}}
{{- if ne .Values.blueGreen.role "router" }}true{{ end }}
{{- end }}

{{/* The port /metrics is served on: METRICS_ADDR's, else the app's own. */}}
{{- define "bazaar.metricsPort" -}}
{{- with .Values.config.METRICS_ADDR }}{{ splitList ":" . | last }}{{ else }}8080{{ end }}
{{- end }}

{{/* The image to run: the given tag (the release workflow passes the git sha), else the chart's appVersion. */}}
{{- define "bazaar.image" -}}
{{- printf "%s:%s" .root.Values.image.repository (default .root.Chart.AppVersion .tag) }}
{{- end }}

{{/* The pod spec of the app; `track` is "stable" or "canary". */}}
{{- define "bazaar.podSpec" -}}
serviceAccountName: {{ include "bazaar.fullname" .root }}
automountServiceAccountToken: false
securityContext:
  runAsNonRoot: true
  runAsUser: 65532
  runAsGroup: 65532
  fsGroup: 65532
  seccompProfile:
    type: RuntimeDefault
terminationGracePeriodSeconds: 30
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "bazaar.selectorLabels" .root | nindent 8 }}
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "bazaar.selectorLabels" .root | nindent 8 }}
containers:
  - name: bazaar
    image: {{ include "bazaar.image" (dict "root" .root "tag" .tag) }}
    imagePullPolicy: {{ .root.Values.image.pullPolicy }}
    args: ["serve"]
    ports:
      - name: http
        containerPort: 8080
        protocol: TCP
      {{- if .root.Values.config.METRICS_ADDR }}
      - name: metrics
        containerPort: {{ include "bazaar.metricsPort" .root }}
        protocol: TCP
      {{- end }}
    envFrom:
      - configMapRef:
          name: {{ include "bazaar.fullname" .root }}
      - secretRef:
          name: {{ include "bazaar.secretName" .root }}
    env:
      - name: OTEL_SERVICE_NAME
        value: {{ printf "bazaar-%s" .track | quote }}
    startupProbe:
      httpGet: { path: /health, port: http }
      periodSeconds: 2
      failureThreshold: 30
    livenessProbe:
      httpGet: { path: /health, port: http }
      periodSeconds: 10
      timeoutSeconds: 2
    readinessProbe:
      # This pod only: a shared dependency failing must not empty the Service (docs/operations.md).
      httpGet: { path: /ready/pod, port: http }
      periodSeconds: 5
      timeoutSeconds: 3
    resources:
      {{- toYaml .root.Values.resources | nindent 6 }}
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      runAsNonRoot: true
      capabilities:
        drop: ["ALL"]
    volumeMounts:
      - name: tmp
        mountPath: /tmp
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
{{- with .root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
