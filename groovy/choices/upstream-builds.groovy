/*
 * pipelinelib: the choices of a promotion job's BUILD_TO_DEPLOY parameter, NUMBER-SUBJECT lines
 * of the upstream deploy job's newest successful builds, newest first.
 *
 * Runs unchanged under both choice plugins, with exactly what each binds (nothing else):
 *   - Extensible Choice, "System Groovy Choice Parameter" (SystemGroovyChoiceListProvider.java):
 *     `project` only, with "Use predefined variables" ticked: the job, or null when no web
 *     request names it (a `build` step of another pipeline, the CLI, the REST API). The
 *     `jenkins` variable was removed (SECURITY-123); it is never read here.
 *   - Active Choices (uno-choice, AbstractScriptableParameter.getHelperParameters): `jenkinsProject`
 *     (when the plugin finds the job), `jenkinsBuild`, `jenkinsParameter`, and every global
 *     environment variable (Manage Jenkins > System > Global properties) as a variable.
 *
 * What it does:
 *   1. The job: `project` or `jenkinsProject`. When neither is there, it FAILS CLOSED (throws):
 *      guessing an upstream job would offer another environment's builds. Both plugins then show
 *      no choice, so such a trigger is refused rather than deploying the wrong thing.
 *   2. The upstream job: the default of the job's own UPSTREAM_PROJECT choice parameter (the job
 *      definition fixes it), so the choices and the deploy always name the same job.
 *   3. The manifest service: GET <PIPELINELIB_SERVER>/api/v1/jobs/<upstream>/choices?limit=N with
 *      `Authorization: Bearer <token>` when the Secret text credential `readTokenCredentialsId`
 *      exists (so `serve --require-read-token` works). ONE deadline (timeoutMs) covers connect,
 *      headers and body: a watchdog disconnects at the deadline, so a server dripping bytes cannot
 *      hold the page; the body is capped at maxBytes. Every line must be NUMBER-SUBJECT.
 *   4. When the service gives nothing usable (unset, refused, non-200, deadline, over the cap,
 *      malformed, or an EMPTY list), Jenkins' own list of the upstream job: completed builds at
 *      or over SUCCESS, newest first, each as NUMBER-SUBJECT with the subject made exactly as
 *      pipelinelib.model.subject_of makes it.
 *
 * Settings (set as plain assignments above this text; docs/jenkins.md): limit (100), timeoutMs
 * (5000), maxBytes (262144), readTokenCredentialsId ('pipelinelib-read-token'). The server URL
 * is the global environment variable PIPELINELIB_SERVER.
 *
 * It compiles without Jenkins on the class path (Jenkins classes are only named in code paths
 * that run inside Jenkins), so `groovy` alone can check it; the tests run it with the fakes of
 * tests/groovy/fakes/ on the class path.
 */

def bound = { String name, Object otherwise ->
    binding.variables.containsKey(name) && binding.getVariable(name) != null ?
        binding.getVariable(name) : otherwise
}

int limit = bound('limit', 100) as int
int timeoutMs = bound('timeoutMs', 5000) as int
int maxBytes = bound('maxBytes', 262144) as int
String readTokenCredentialsId = bound('readTokenCredentialsId', 'pipelinelib-read-token') as String
String serverVariable = 'PIPELINELIB_SERVER'
String upstreamParameter = 'UPSTREAM_PROJECT'
def log = java.util.logging.Logger.getLogger('pipelinelib.choices')

// --- 1. the job whose parameter this is ------------------------------------------------------
def job = bound('project', null) ?: bound('jenkinsProject', null)
if (job == null) {
    throw new IllegalStateException('pipelinelib choices: the job is not known (the choice plugin bound no ' +
        'project: the parameter was evaluated outside a web request to the job, e.g. by a build step, ' +
        'the CLI or the REST API); refusing to guess its upstream job. Start the promotion from the ' +
        'job\'s "Build with Parameters" page.')
}
String jobName = job.getFullName()

// --- 2. the upstream job it promotes ---------------------------------------------------------
def parameters = job.getProperty('hudson.model.ParametersDefinitionProperty')
String upstreamJob = parameters?.getParameterDefinition(upstreamParameter)?.getDefaultParameterValue()?.getValue()
if (!upstreamJob) {
    throw new IllegalStateException('pipelinelib choices: job ' + jobName + ' has no ' + upstreamParameter +
        ' parameter with a value; its job definition must declare the upstream deploy job')
}

// --- the subject, exactly as pipelinelib.model.subject_of makes it ---------------------------
// Python's str.strip() and str.splitlines() know more white space and line breaks than Java's
// trim(); these lists are Python's, so both sides agree on every display name.
def isSpace = { int cp ->
    (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0 ||
        cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
        cp == 0x202f || cp == 0x205f || cp == 0x3000
}
def isLineBreak = { int cp ->
    (cp >= 0x0a && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x1e) || cp == 0x85 || cp == 0x2028 ||
        cp == 0x2029
}
def codePoints = { String text ->
    List<Integer> out = []
    int i = 0
    while (i < text.length()) {
        int cp = text.codePointAt(i)
        out << cp
        i += Character.charCount(cp)
    }
    out
}
def strip = { List<Integer> cps ->
    int start = 0
    int end = cps.size()
    while (start < end && isSpace(cps[start])) { start++ }
    while (end > start && isSpace(cps[end - 1])) { end-- }
    cps.subList(start, end)
}
def subjectOf = { Object displayName, Object number ->
    if (displayName == null) {
        return '#' + number
    }
    List<Integer> cps = strip(codePoints(displayName as String))
    int end = 0
    while (end < cps.size() && !isLineBreak(cps[end])) { end++ }
    List<Integer> first = strip(cps.subList(0, end).findAll { Character.getType(it as int) != Character.CONTROL })
    if (first.size() > 120) {  // cut and marked, as pipelinelib.textfit.fit_subject does
        first = first.subList(0, 119) + [0x2026]
    }
    if (first.isEmpty()) {
        return '#' + number
    }
    StringBuilder text = new StringBuilder()
    first.each { text.appendCodePoint(it as int) }
    text.toString()
}

// --- where the service is and the read token -------------------------------------------------
def serviceUrlOf = { ->
    // Active Choices binds every global environment variable; Extensible Choice binds none.
    String url = bound(serverVariable, null) as String
    if (!url) {
        def props = jenkins.model.Jenkins.get().getGlobalNodeProperties()
            .get(hudson.slaves.EnvironmentVariablesNodeProperty)
        url = props?.getEnvVars()?.get(serverVariable)
    }
    url
}
def readTokenOf = { ->
    try {
        def found = com.cloudbees.plugins.credentials.CredentialsProvider.lookupCredentialsInItem(
            org.jenkinsci.plugins.plaincredentials.StringCredentials, job, hudson.security.ACL.SYSTEM2, [])
            .find { it.getId() == readTokenCredentialsId }
        return found?.getSecret()?.getPlainText()
    } catch (Exception e) {
        log.warning('pipelinelib choices: no read token (credential ' + readTokenCredentialsId + '): ' + e)
        return null
    }
}

// --- 3. the manifest service, under one deadline ---------------------------------------------
def encodeJob = { String name ->
    name.split('/').collect { URLEncoder.encode(it, 'UTF-8').replace('+', '%20') }.join('/')
}
def fromService = { String serviceUrl, String token ->
    if (!serviceUrl) {
        return [ok: false, reason: 'the global variable ' + serverVariable + ' is not set']
    }
    long deadline = System.nanoTime() + timeoutMs * 1000000L
    HttpURLConnection conn = null
    Thread watchdog = null
    boolean[] cut = [false] as boolean[]
    try {
        URL url = new URL(serviceUrl.replaceAll('/+$', '') + '/api/v1/jobs/' + encodeJob(upstreamJob) +
            '/choices?limit=' + limit)
        conn = (HttpURLConnection) url.openConnection()
        conn.setConnectTimeout(timeoutMs)
        conn.setReadTimeout(timeoutMs)
        conn.setInstanceFollowRedirects(false)
        conn.setUseCaches(false)
        conn.setRequestProperty('Accept', 'text/plain')
        if (token) {
            conn.setRequestProperty('Authorization', 'Bearer ' + token)
        }
        HttpURLConnection watched = conn
        watchdog = Thread.startDaemon('pipelinelib-choices-deadline') {
            try {
                Thread.sleep(timeoutMs)
                cut[0] = true
                watched.disconnect()
            } catch (InterruptedException ignored) {
                // the answer came in time
            }
        }
        int status = conn.getResponseCode()
        if (status != 200) {
            return [ok: false, reason: 'HTTP ' + status]
        }
        InputStream body = conn.getInputStream()
        ByteArrayOutputStream buffer = new ByteArrayOutputStream()
        byte[] chunk = new byte[8192]
        while (true) {
            if (System.nanoTime() >= deadline) {
                cut[0] = true
                break
            }
            int n = body.read(chunk)
            if (n < 0) {
                break
            }
            if (buffer.size() + n > maxBytes) {
                return [ok: false, reason: 'the answer is over ' + maxBytes + ' bytes']
            }
            buffer.write(chunk, 0, n)
        }
        if (cut[0]) {
            return [ok: false, reason: 'no whole answer within ' + timeoutMs + ' ms']
        }
        String text = new String(buffer.toByteArray(), 'UTF-8')
        List<String> lines = text.split('\n').collect { it.endsWith('\r') ? it[0..-2] : it }.findAll { it }
        String bad = lines.find { !(it ==~ /[1-9][0-9]{0,17}(-.*)?/) }
        if (bad != null) {
            return [ok: false, reason: 'a line is not NUMBER-SUBJECT']
        }
        if (lines.isEmpty()) {
            return [ok: false, reason: 'the service listed no build']
        }
        return [ok: true, lines: lines]
    } catch (IOException e) {
        return [ok: false, reason: cut[0] ? 'no whole answer within ' + timeoutMs + ' ms' : e.toString()]
    } finally {
        watchdog?.interrupt()
        conn?.disconnect()
    }
}

// --- 4. Jenkins' own build list --------------------------------------------------------------
def fromJenkins = { ->
    def item = jenkins.model.Jenkins.get().getItemByFullName(upstreamJob, hudson.model.Job)
    if (item == null) {
        throw new IllegalArgumentException('no job ' + upstreamJob + ' in Jenkins')
    }
    // RunList is lazy: only the newest builds up to `limit` matches are loaded.
    item.getBuilds().completedOnly().overThresholdOnly(hudson.model.Result.SUCCESS).limit(limit).collect { run ->
        (run.getNumber() as String) + '-' + subjectOf(run.getDisplayName(), run.getNumber())
    }
}

String serviceUrl = null
String reason
try {
    serviceUrl = serviceUrlOf()
} catch (Exception e) {
    reason = 'the global variable ' + serverVariable + ' could not be read: ' + e
}
Map answer = reason ? [ok: false, reason: reason] : fromService(serviceUrl, serviceUrl ? readTokenOf() : null)
if (answer.ok) {
    return answer.lines.take(limit)
}
log.warning('pipelinelib choices for ' + jobName + ': the service gave no list for ' + upstreamJob + ' (' +
    answer.reason + '); falling back to the Jenkins build list')
try {
    return fromJenkins()
} catch (Exception e) {
    throw new IllegalStateException('pipelinelib choices for ' + jobName + ': the service gave no list for ' +
        upstreamJob + ' (' + answer.reason + ') and the Jenkins build list failed: ' + e, e)
}
