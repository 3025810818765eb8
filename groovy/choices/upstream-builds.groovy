/*
 * pipelinelib: the choices of an Extensible Choice Parameter ("System Groovy Choice Parameter").
 *
 * Lists the newest successful builds of an upstream job as NUMBER-SUBJECT lines, newest first:
 *   1. from the manifest service: GET <serviceUrl>/api/v1/jobs/<job>/choices?limit=<limit>,
 *      with connect and read timeouts, so a slow service never hangs the "Build with Parameters"
 *      page;
 *   2. when the service does not answer (refused, timed out, non-200), from Jenkins' own build
 *      list: the job's completed builds at or over SUCCESS, newest first, at most <limit>, each
 *      as "${number}-${subject}" with the subject made exactly as the service makes it (first line
 *      of the display name, control characters removed, trimmed, at most 120 characters; a
 *      longer one is cut to 119 and U+2026 '…').
 *
 * Setup (docs/jenkins-integration.md): paste this file into the parameter's script box and edit
 * the two defaults below. Inputs can also be bound as variables (the tests do): serviceUrl,
 * upstreamJob, limit, timeoutMs, and fallbackBuilds, a closure (String job, int limit) returning
 * [[number: N, displayName: '...'], ...] newest first, which replaces the Jenkins lookup.
 *
 * This script compiles without Jenkins on the classpath: Jenkins classes are loaded by name only
 * inside the fallback, so `groovy` alone can check and test it.
 */

// --- edit these two when you paste the script into the job configuration ---------------------
def DEFAULT_SERVICE_URL = 'https://pipelinelib.example.com'
def DEFAULT_UPSTREAM_JOB = 'deploy-test'

def bound = { String name, Object otherwise ->
    binding.variables.containsKey(name) && binding.getVariable(name) != null ?
        binding.getVariable(name) : otherwise
}

String serviceUrl = bound('serviceUrl', DEFAULT_SERVICE_URL) as String
String upstreamJob = bound('upstreamJob', DEFAULT_UPSTREAM_JOB) as String
int limit = bound('limit', 100) as int
int timeoutMs = bound('timeoutMs', 3000) as int
def log = java.util.logging.Logger.getLogger('pipelinelib.choices')

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

// --- 1. the manifest service ----------------------------------------------------------------
def encodeJob = { String job ->
    job.split('/').collect { URLEncoder.encode(it, 'UTF-8').replace('+', '%20') }.join('/')
}
def fromService = { ->
    if (!serviceUrl) {
        return [ok: false, reason: 'no service URL']
    }
    HttpURLConnection conn = null
    try {
        URL url = new URL(serviceUrl.replaceAll('/+$', '') + '/api/v1/jobs/' + encodeJob(upstreamJob) +
            '/choices?limit=' + limit)
        conn = (HttpURLConnection) url.openConnection()
        conn.setConnectTimeout(timeoutMs)
        conn.setReadTimeout(timeoutMs)
        conn.setInstanceFollowRedirects(false)
        conn.setRequestProperty('Accept', 'text/plain')
        int status = conn.getResponseCode()
        if (status != 200) {
            return [ok: false, reason: 'HTTP ' + status]
        }
        String text = conn.getInputStream().getText('UTF-8')
        List<String> lines = text.split('\n').collect { it.endsWith('\r') ? it[0..-2] : it }.findAll { it }
        return [ok: true, lines: lines]
    } catch (IOException e) {
        return [ok: false, reason: e.toString()]
    } finally {
        conn?.disconnect()
    }
}

// --- 2. Jenkins' own build list (only inside Jenkins) ---------------------------------------
def jenkinsBuilds = { String job, int max ->
    ClassLoader loader = this.class.classLoader ?: Thread.currentThread().contextClassLoader
    def jenkins = Class.forName('jenkins.model.Jenkins', true, loader).getInstance()
    def item = jenkins.getItemByFullName(job)
    if (item == null) {
        throw new IllegalArgumentException('no job ' + job + ' in Jenkins')
    }
    def success = Class.forName('hudson.model.Result', true, loader).SUCCESS
    // RunList is lazy: only the newest builds up to `max` matches are loaded.
    item.getBuilds().completedOnly().overThresholdOnly(success).limit(max).collect { run ->
        [number: run.getNumber(), displayName: run.getDisplayName()]
    }
}

def answer = fromService()
List<String> choices
if (answer.ok) {
    choices = answer.lines.take(limit)
} else {
    log.warning('pipelinelib choices: the service did not answer for ' + upstreamJob + ' (' +
        answer.reason + '); falling back to the Jenkins build list')
    Closure source = bound('fallbackBuilds', null) ?: jenkinsBuilds
    try {
        choices = source(upstreamJob, limit).take(limit).collect { build ->
            (build.number as String) + '-' + subjectOf(build.displayName, build.number)
        }
    } catch (Exception e) {
        throw new IllegalStateException('pipelinelib choices: the service did not answer (' +
            answer.reason + ') and the Jenkins build list failed: ' + e, e)
    }
}
choices
