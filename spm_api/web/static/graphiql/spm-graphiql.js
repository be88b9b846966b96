// GraphiQL for SPM API, loaded from the API's own origin.
//
// Queries and mutations go over HTTP with the headers of GraphiQL's headers tab;
// subscriptions go over graphql-transport-ws, sending those same headers as the
// connection_init payload (a browser cannot set headers on a WebSocket).
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("spm-graphiql-config").textContent);
  const httpUrl = new URL(config.endpoint, window.location.href);
  const wsUrl = new URL(httpUrl);
  wsUrl.protocol = httpUrl.protocol === "https:" ? "wss:" : "ws:";

  // The operations of a document as [kind, name] pairs, read from its text: GraphiQL's
  // parsed document can lag behind the editor, and a wrong guess sends a subscription
  // over HTTP.
  function operationsOf(query) {
    const operations = [];
    let depth = 0;
    let parentheses = 0;  // variable definitions, arguments: never an operation
    const tokens = query.replace(/#[^\n]*/g, "")
      .replace(/"""[\s\S]*?"""|"(?:\\.|[^"\\])*"/g, '""')
      .match(/\$?[A-Za-z_][A-Za-z0-9_]*|[{}()]/g) || [];
    for (let index = 0; index < tokens.length; index += 1) {
      const token = tokens[index];
      if (token === "(" || token === ")") {
        parentheses += token === "(" ? 1 : -1;
      } else if (parentheses > 0) {
        continue;
      } else if (token === "{") {
        if (depth === 0 && (index === 0 || tokens[index - 1] === "}")) {
          operations.push(["query", null]);  // shorthand: { ... }
        }
        depth += 1;
      } else if (token === "}") {
        depth -= 1;
      } else if (depth === 0 && ["query", "mutation", "subscription"].includes(token)) {
        const next = tokens[index + 1];
        operations.push([token, next && /^[A-Za-z_]/.test(next) ? next : null]);
      }
    }
    return operations;
  }

  function isSubscription(params) {
    const operations = operationsOf(params.query);
    const chosen = params.operationName
      ? operations.find(([, name]) => name === params.operationName)
      : operations[0];
    return Boolean(chosen) && chosen[0] === "subscription";
  }

  // One WebSocket client per set of headers: a changed token opens a new connection.
  let socket = { key: null, client: null };

  function socketFor(headers) {
    const key = JSON.stringify(headers);
    if (socket.key !== key) {
      if (socket.client) {
        socket.client.dispose();
      }
      socket = {
        key,
        client: graphqlWs.createClient({ url: wsUrl.toString(), connectionParams: headers,
                                         lazy: true, retryAttempts: 0 }),
      };
    }
    return socket.client;
  }

  function subscribe(params, headers) {
    const client = socketFor(headers);
    return {
      subscribe(observer) {
        const dispose = client.subscribe(params, {
          next: (value) => observer.next(value),
          error: (error) => {
            const message = error && error.code
              ? `connection closed with code ${error.code}: ${error.reason || "no reason given"}`
              : String(error && error.message ? error.message : error);
            observer.next({ errors: [{ message }] });
            observer.complete();
          },
          complete: () => observer.complete(),
        });
        return { unsubscribe: dispose };
      },
    };
  }

  async function post(params, headers) {
    const response = await fetch(httpUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", ...headers },
      body: JSON.stringify(params),
    });
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch (_notJson) {
      return { errors: [{ message: `HTTP ${response.status}: ${text.slice(0, 500)}` }] };
    }
  }

  function fetcher(params, options) {
    const headers = (options && options.headers) || {};
    if (isSubscription(params)) {
      return subscribe(params, headers);
    }
    return post(params, headers);
  }

  function App() {
    return React.createElement(GraphiQL, {
      fetcher,
      defaultQuery: config.defaultQuery,
      headers: config.headers || undefined,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(App));
})();
